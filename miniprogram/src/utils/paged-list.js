// @ts-check
/**
 * A cursor-paginated list (the API's `{items, next_cursor}`), as a Behavior for the page that shows
 * it. With `reloadable` (onLoad, pull-down refresh, 重试) it loads the first page, shows `ready` or
 * `empty`, keeps what is shown when a refresh fails (a toast) and shows the error state when
 * nothing is shown yet; `onReachBottom` appends the next page by `next_cursor`, one at a time.
 *
 *     Component({
 *       behaviors: [pagedList({ path: '/api/v1/me/redemptions', shape: redemption })],
 *       data: { ... the page's own ... },
 *       methods: { ... },
 *     })
 *
 * The page names what is fixed in the config; what depends on the page's data it gives by
 * overriding a method: `listPath()` (a path with an id), `listQuery()` (filters, a tab),
 * `listItems(items, more)` (shaping that depends on the page), `listExtra(page)` (more of the
 * answer to show: an unread count), `listKey()` (what the list is of — a tab: an answer for
 * another tab is dropped), `listError(err)` (data for the error state: an `errorMessage`).
 * A page that loads more than the list overrides `load()` and calls `loadList()` in it.
 */
const api = require('./api')
const reloadable = require('./reloadable')

/**
 * @typedef {object} PagedListConfig
 * @property {string} [path] the list's API path (else the page's `listPath()`)
 * @property {Record<string, any>} [query] sent with every page ({limit}; else the page's `listQuery()`)
 * @property {(item: any) => any} [shape] an item as the page shows it (else the item as it came)
 * @property {string} [items] the data name of the items shown ('items')
 * @property {string} [cursor] the data name of the next page's cursor ('cursor'; null: no more)
 * @property {string} [state] the data name of the list's loading | ready | empty | error ('state')
 */

/**
 * @typedef {object} PagedListMethods
 * @property {() => Promise<void>} load
 * @property {() => Promise<void>} loadList the first page (again)
 * @property {() => Promise<void>} onReachBottom the next page, if any
 * @property {() => string} listPath
 * @property {() => Record<string, any>} listQuery
 * @property {(items: any[], more: boolean) => any[]} listItems
 * @property {(page: any) => Record<string, any>} listExtra
 * @property {() => unknown} listKey
 * @property {(err: unknown) => Record<string, any>} listError
 */

/**
 * The Behavior of one page's list.
 * @param {PagedListConfig} [config]
 * @returns {WechatMiniprogram.Behavior.Identifier<{ state: string, loadingMore: boolean }, {}, PagedListMethods & { loadFailed: (err: unknown, errorData?: Record<string, any>, stateKey?: string) => void }>}
 */
function pagedList(config = {}) {
  const items = config.items || 'items'
  const cursor = config.cursor || 'cursor'
  const state = config.state || 'state'
  /** @type {any} */
  const behavior = Behavior({
    behaviors: [reloadable],
    data: { [state]: 'loading', [items]: [], [cursor]: null, loadingMore: false },
    methods: {
      load() {
        return this.loadList()
      },

      async loadList() {
        const key = this.listKey()
        try {
          const page = await api.request(this.listPath(), { data: this.listQuery() })
          if (key !== this.listKey()) return
          this.setData({
            [items]: this.listItems(page.items, false), [cursor]: page.next_cursor || null,
            [state]: page.items.length ? 'ready' : 'empty', ...this.listExtra(page),
          })
        } catch (err) {
          if (key !== this.listKey()) return
          this.loadFailed(err, this.listError(err), state)
        }
      },

      async onReachBottom() {
        const data = /** @type {Record<string, any>} */ (this.data)
        if (!data[cursor] || data.loadingMore) return
        const key = this.listKey()
        this.setData({ loadingMore: true })
        try {
          const page = await api.request(this.listPath(), { data: { ...this.listQuery(), cursor: data[cursor] } })
          if (key !== this.listKey()) return
          this.setData({
            [items]: [...data[items], ...this.listItems(page.items, true)], [cursor]: page.next_cursor || null,
            ...this.listExtra(page),
          })
        } catch (err) {
          api.showError(err)
        } finally {
          this.setData({ loadingMore: false })
        }
      },

      /** @returns {string} */
      listPath() {
        return config.path || ''
      },

      /** @returns {Record<string, any>} */
      listQuery() {
        return config.query || {}
      },

      /**
       * The items of a page as the page shows them.
       * @param {any[]} list
       * @param {boolean} more a next page (else the first)
       * @returns {any[]}
       */
      listItems(list, more) {
        return config.shape ? list.map(config.shape) : list
      },

      /**
       * More of a page's answer to show beside its items.
       * @param {any} page
       * @returns {Record<string, any>}
       */
      listExtra(page) {
        return {}
      },

      /** @returns {unknown} what the list is of now: an answer that comes after it changed is dropped */
      listKey() {
        return ''
      },

      /**
       * Data shown with the error state of a first page that failed.
       * @param {unknown} err
       * @returns {Record<string, any>}
       */
      listError(err) {
        return {}
      },
    },
  })
  return behavior
}

module.exports = pagedList
