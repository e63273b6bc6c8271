// @ts-check
/**
 * Subscribe messages are a quota: each "允许" in WeChat's dialog lets the server send one message
 * of that template. The dialog may only open on a tap (WeChat's rule), so call `ask` from a tap
 * handler. The templates come from the server (one place to configure them).
 */
const api = require('./api')

/** @type {Record<string, string> | null} */
let templates = null

/** The template id of each purpose (visit, order, ...), fetched once. */
async function templatesByPurpose() {
  if (!templates) templates = (await api.request('/api/v1/subscriptions/templates', { auth: false })).templates
  return /** @type {Record<string, string>} */ (templates)
}

/**
 * Ask for the purposes' notices (from a tap); tell the server what was accepted.
 * @param {string[]} purposes
 * @returns {Promise<string[]>} the purposes the user accepted
 */
async function ask(purposes) {
  const byPurpose = await templatesByPurpose()
  const ids = purposes.map((p) => byPurpose[p]).filter(Boolean)
  if (!ids.length) return []
  /** @type {Record<string, string>} */
  const answers = await new Promise((resolve) => {
    wx.requestSubscribeMessage({
      tmplIds: ids,
      success: (res) => resolve(/** @type {any} */ (res)),
      fail: () => resolve({}),
    })
  })
  const accepted = ids.filter((id) => answers[id] === 'accept')
  if (accepted.length) await api.request('/api/v1/me/subscriptions', { method: 'POST', data: { template_ids: accepted } })
  return purposes.filter((p) => accepted.includes(byPurpose[p]))
}

/**
 * A page's "开启提醒" tap: ask for the purposes' notices, mark the page `subscribed` once anything
 * was accepted, and say what happened in a toast.
 * @param {WechatMiniprogram.Component.TrivialInstance} page
 * @param {string[]} purposes
 * @param {(count: number) => string} saidWhenAccepted the toast after `count` purposes were accepted
 * @returns {Promise<string[]>} the purposes accepted
 */
async function offer(page, purposes, saidWhenAccepted) {
  try {
    const accepted = await ask(purposes)
    page.setData({ subscribed: /** @type {any} */ (page.data).subscribed || accepted.length > 0 })
    wx.showToast({ title: accepted.length ? saidWhenAccepted(accepted.length) : '未开启提醒', icon: 'none' })
    return accepted
  } catch (err) {
    api.showError(err)
    return []
  }
}

module.exports = { ask, offer, templatesByPurpose }
