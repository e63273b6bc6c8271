// @ts-check
/**
 * My service orders as an engineer (GET /api/v1/engineer/service-orders, newest first, by status,
 * cursor-paginated): each with the customer's name, full phone (a tap calls) and address; I
 * schedule (date and time → .../schedule) and complete (after a confirmation → .../complete)
 * them on the card (the work-order component). `?status=assigned|scheduled|completed` opens a tab.
 */
const api = require('../../../utils/api')
const pagedList = require('../../../utils/paged-list')
const shared = require('../shared')

const PAGE_SIZE = 20
const TABS = [
  { key: 'assigned', title: '待预约' },
  { key: 'scheduled', title: '待完成' },
  { key: 'completed', title: '已完成' },
  { key: '', title: '全部' },
]
const EMPTY = /** @type {Record<string, string>} */ ({
  assigned: '没有待预约的服务单', scheduled: '没有待完成的服务单', completed: '还没有完成的服务单', '': '还没有派给您的服务单',
})

Component({
  behaviors: [pagedList({ path: '/api/v1/engineer/service-orders', cursor: 'nextCursor' })],
  data: {
    tabs: TABS,
    status: 'assigned',
    emptyMessage: EMPTY.assigned,
    /** @type {any[]} */
    items: [],
    /** @type {Record<number, string>} */
    estateNames: {},
    loaded: false,
  },
  methods: {
    /** @param {Record<string, string | undefined>} options */
    onLoad(options) {
      const status = TABS.some((t) => t.key === options.status) ? /** @type {string} */ (options.status) : 'assigned'
      this.setData({ status, emptyMessage: EMPTY[status] })
      this.loadEstates()
      this.load()
    },

    /** Back from another page: orders may have moved on (a resident cancelled). */
    onShow() {
      if (this.data.loaded) this.load()
    },

    /** The estates' names for the cards (an order carries only the estate's id). */
    async loadEstates() {
      try {
        const engineer = await api.request('/api/v1/engineer/me')
        this.setData({ estateNames: shared.estateNames(engineer.estates) })
      } catch (err) {
        // the cards show without the estate's name
      }
    },

    listQuery() {
      return { limit: PAGE_SIZE, status: this.data.status || undefined }
    },

    /** The tab the list is of: an answer for another tab (chosen meanwhile) is dropped. */
    listKey() {
      return this.data.status
    },

    listExtra() {
      return { loaded: true }
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onTab(e) {
      const status = e.currentTarget.dataset.key
      if (status === this.data.status) return
      this.setData({ status, emptyMessage: EMPTY[status], state: 'loading', items: [], nextCursor: null })
      this.load()
    },

    /**
     * An order scheduled or completed on its card: shown as it is now, and out of a tab it no longer belongs to.
     * @param {WechatMiniprogram.CustomEvent<{ order: any }>} e
     */
    onOrderChange(e) {
      const updated = e.detail.order
      const keep = !this.data.status || updated.status === this.data.status
      const items = keep ? this.data.items.map((o) => (o.id === updated.id ? updated : o)) : this.data.items.filter((o) => o.id !== updated.id)
      this.setData({ items, state: items.length ? 'ready' : 'empty' })
    },

    onOrderStale() {
      this.load()
    },
  },
})
