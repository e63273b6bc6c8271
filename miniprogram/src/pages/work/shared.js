// @ts-check
/**
 * What the engineer's pages (工作台) share: the estate the engineer last chose (for the binding
 * code and visit announcements, kept in storage), the estates' names, a customer's health badge.
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

/** A customer's health band as the server and the web workbench name it (book.services.BAND_LABELS). */
const BAND_LABELS = { red: '红色', yellow: '黄色', green: '绿色' }

/**
 * A customer's health as the engineer's pages show it: the band badge ("绿色 85", its class the
 * band) and the trend since the score last changed ("↑5", "↓10"; none on a first score).
 * @param {any} h the API's health (HealthSchema), or null before the first score
 * @returns {{ text: string, band: string, trend: string, trendClass: string, score: number | null, reasons: string[] }}
 */
function health(h) {
  if (!h) return { text: '未评分', band: 'none', trend: '', trendClass: '', score: null, reasons: [] }
  const band = /** @type {keyof typeof BAND_LABELS} */ (h.band)
  const trend = h.trend ? `${h.trend > 0 ? '↑' : '↓'}${Math.abs(h.trend)}` : ''
  return {
    text: `${h.band_label || BAND_LABELS[band] || h.band} ${h.score}`, band: h.band, trend,
    trendClass: h.trend > 0 ? 'up' : 'down', score: h.score,
    reasons: (h.reasons || []).map((/** @type {any} */ r) => `${r.text}（-${r.points}）`),
  }
}

/**
 * How many a first page holds, as a count: "3", or "20+" when there are more.
 * @param {{ items: any[], next_cursor?: string | null } | null} page null: the call failed ("")
 */
function pageCount(page) {
  if (!page) return ''
  return `${page.items.length}${page.next_cursor ? '+' : ''}`
}

module.exports = { ESTATE_KEY, rememberedEstate, rememberEstate, estateNames, BAND_LABELS, health, pageCount }
