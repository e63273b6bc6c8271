// @ts-check
/**
 * What every page that loads from the API does the same way, as a Behavior
 * (`Component({ behaviors: [reloadable], ... })`): `onLoad` loads, pull-down refresh loads again
 * and stops the spinner, the error state's 重试 (`bindaction="onRetry"` on <state-view>) shows
 * the loading state and loads again. The page writes `load()` (and may write its own `onLoad`,
 * e.g. to read its options first); when `load()` fails it calls `loadFailed(err)`.
 */
const api = require('./api')

module.exports = Behavior({
  methods: {
    onLoad() {
      this.load()
    },

    async onPullDownRefresh() {
      try {
        await this.load()
      } finally {
        wx.stopPullDownRefresh()
      }
    },

    onRetry() {
      this.setData({ state: 'loading' })
      this.load()
    },

    /**
     * What the page shows, from the API: the page writes it.
     * @returns {Promise<void>}
     */
    async load() {
      throw new Error('a page with the reloadable behavior writes load()')
    },

    /**
     * A load failed. A page that shows what it loaded before (ready or empty) keeps it and says why
     * in a toast; one that shows nothing yet (loading, or the error already) shows the error state.
     * @param {unknown} err
     * @param {Record<string, any>} [errorData] set with the error state (an `errorMessage`)
     * @param {string} [stateKey] the data name of the state ('state'; a list of its own has its own)
     */
    loadFailed(err, errorData = {}, stateKey = 'state') {
      const state = /** @type {Record<string, any>} */ (this.data)[stateKey]
      if (state === 'ready' || state === 'empty') api.showError(err)
      else this.setData({ [stateKey]: 'error', ...errorData })
    },
  },
})
