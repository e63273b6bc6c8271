// @ts-check
/**
 * One of my customers (`?id=`): who they are (GET /api/v1/engineer/customers/{id}: name, the full
 * phone — I am their steward — with a call button, the estate they bound me in, where they live),
 * my visits to them (a scan of my code each, with their rating), and their orders with me
 * (GET /api/v1/engineer/service-orders?resident_id=, newest first, more on reaching the bottom),
 * which I schedule and complete here as on 我的服务单.
 */
const api = require('../../../utils/api')
const format = require('../../../utils/format')
const pagedList = require('../../../utils/paged-list')

const PAGE_SIZE = 10

Component({
  behaviors: [pagedList({ path: '/api/v1/engineer/service-orders', items: 'orders', cursor: 'nextCursor', state: 'ordersState' })],
  data: {
    id: 0,
    /** loading | ready | error */
    state: 'loading',
    errorMessage: '',
    retry: true,
    /** @type {any} */
    customer: null,
    initial: '',
    since: '',
    /** the estates they live in */
    homes: '',
    /** @type {{ id: number, when: string, estate: string, rating: number, comment: string, ref: string }[]} */
    visits: [],
    /** @type {Record<number, string>} */
    estateNames: {},
    /** @type {any[]} */
    orders: [],
  },
  methods: {
    /** @param {Record<string, string | undefined>} options */
    onLoad(options) {
      const id = Number(options.id || 0)
      if (!id) {
        this.setData({ state: 'error', errorMessage: '没有找到这位客户', retry: false })
        return
      }
      this.setData({ id })
      this.load()
    },

    /** The customer and the first page of their orders (a list with its own state). */
    async load() {
      this.loadList()
      try {
        const customer = await api.request(`/api/v1/engineer/customers/${this.data.id}`)
        /** @type {Record<number, string>} */
        const names = {}
        for (const r of customer.estates) names[r.estate.id] = r.estate.name
        if (customer.bound_estate) names[customer.bound_estate.id] = customer.bound_estate.name
        wx.setNavigationBarTitle({ title: customer.display_name || '客户' })
        this.setData({
          state: 'ready', customer, estateNames: names,
          initial: (customer.display_name || '住').slice(0, 1),
          since: format.datetime(customer.since, { time: false }),
          homes: customer.estates.map((/** @type {any} */ r) => r.estate.name).join('、'),
          visits: customer.visits.map((/** @type {any} */ v) => ({
            id: v.id, when: format.datetime(v.created_at), estate: names[v.estate_id] || '',
            rating: v.rating || 0, comment: v.comment || '', ref: v.visit_ref || '',
          })),
        })
      } catch (err) {
        const known = /** @type {any} */ (err)
        if (this.data.state === 'ready') api.showError(err)
        else if (known instanceof api.ApiError && known.status === 404) this.setData({ state: 'error', errorMessage: known.message, retry: false })
        else this.setData({ state: 'error', errorMessage: '加载失败，请检查网络', retry: true })
      }
    },

    listQuery() {
      return { resident_id: this.data.id, limit: PAGE_SIZE }
    },

    onRetryOrders() {
      this.setData({ ordersState: 'loading' })
      this.loadList()
    },

    /** @param {WechatMiniprogram.CustomEvent<{ order: any }>} e */
    onOrderChange(e) {
      const updated = e.detail.order
      this.setData({ orders: this.data.orders.map((o) => (o.id === updated.id ? updated : o)) })
    },

    onOrderStale() {
      this.loadList()
    },

    onCall() {
      const phone = this.data.customer && this.data.customer.phone
      if (phone) wx.makePhoneCall({ phoneNumber: phone })
    },
  },
})
