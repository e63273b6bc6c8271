// @ts-check
/**
 * The app: what every page shares lives in globalData (the estate the resident is looking at, the
 * signed-in user once loaded). Pages ask the API module for everything else.
 */
App({
  globalData: {
    /** @type {number | null} the estate shown on the 小区 tab */
    estateId: null,
    /** the tab the 小区 page opens on next (a notice's `tab=offers`: switchTab carries no query) */
    estateTab: '',
    /** @type {any} GET /api/v1/me, once a page loaded it */
    me: null,
    /** a question was posted: the 小区 tab reloads its feed when shown */
    feedStale: false,
  },
})
