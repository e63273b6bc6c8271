// @ts-check
/**
 * What the engineer's pages (工作台) share: the estate the engineer last chose (for the binding
 * code and visit announcements, kept in storage) and the estates' names.
 */

const ESTATE_KEY = 'linli.work.estate'

/**
 * The estate to preselect among the engineer's: the one chosen last time while they still serve
 * it, else the only one, else none (the engineer picks).
 * @param {{ id: number }[]} estates the engineer's estates (GET /api/v1/engineer/me)
 * @returns {number | null}
 */
function rememberedEstate(estates) {
  const stored = Number(wx.getStorageSync(ESTATE_KEY) || 0)
  if (stored && estates.some((e) => e.id === stored)) return stored
  return estates.length === 1 ? estates[0].id : null
}

/** @param {number} estateId */
function rememberEstate(estateId) {
  wx.setStorageSync(ESTATE_KEY, estateId)
}

/**
 * Estate names by id.
 * @param {{ id: number, name: string }[]} estates
 * @returns {Record<number, string>}
 */
function estateNames(estates) {
  /** @type {Record<number, string>} */
  const names = {}
  for (const e of estates || []) names[e.id] = e.name
  return names
}

module.exports = { ESTATE_KEY, rememberedEstate, rememberEstate, estateNames }
