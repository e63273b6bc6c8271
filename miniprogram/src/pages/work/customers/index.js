// @ts-check
/**
 * My customers (GET /api/v1/engineer/customers, newest first, cursor-paginated): residents who
 * bound me as their steward, each with their estate and my last visit. Search by name or phone
 * digits (the last four of the masked number do), filter by estate when I serve several; a tap
 * opens the customer.
 */
const api = require('../../../utils/api')
const format = require('../../../utils/format')

const PAGE_SIZE = 20

/** @param {any} c the API's customer */
function row(c) {
  return {
    id: c.user_id,
    name: c.display_name || '未设置昵称',
    initial: (c.display_name || '住').slice(0, 1),
    phone: c.phone || '未留手机号',
    estate: c.estate ? c.estate.name : '',
    lastVisit: c.last_visit_at ? `最近上门 ${format.datetime(c.last_visit_at)}` : '尚无上门记录',
    since: `${format.datetime(c.since, { time: false })}成为客户`,
  }
}

Component({
  data: {
    /** loading | ready | empty | error */
    state: 'loading',
    /** @type {ReturnType<typeof row>[]} */
    items: [],
    /** @type {string | null} */
    nextCursor: null,
    loadingMore: false,
    /** what is typed; `q` is what the list shows */
    query: '',
    q: '',
    /** @type {{ id: number, name: string }[]} the estate filter's choices: 全部小区 first */
    estateChoices: [{ id: 0, name: '全部小区' }],
    estateIndex: 0,
  },
  methods: {
    onLoad() {
      this.loadEstates()
      this.load()
    },

    async onPullDownRefresh() {
      await this.load()
      wx.stopPullDownRefresh()
    },

    onRetry() {
      this.setData({ state: 'loading' })
      this.load()
    },

    /** The estate filter (only when I serve several); the list does not wait for it. */
    async loadEstates() {
      try {
        const engineer = await api.request('/api/v1/engineer/me')
        this.setData({ estateChoices: [{ id: 0, name: '全部小区' }, ...engineer.estates.map((/** @type {any} */ e) => ({ id: e.id, name: e.name }))] })
      } catch (err) {
        // without it the list is still whole: the filter just is not offered
      }
    },

    filters() {
      const estate = this.data.estateChoices[this.data.estateIndex]
      return { limit: PAGE_SIZE, q: this.data.q || undefined, estate_id: estate && estate.id ? estate.id : undefined }
    },

    async load() {
      try {
        const page = await api.request('/api/v1/engineer/customers', { data: this.filters() })
        this.setData({ items: page.items.map(row), nextCursor: page.next_cursor, state: page.items.length ? 'ready' : 'empty' })
      } catch (err) {
        if (this.data.state === 'ready') api.showError(err)
        else this.setData({ state: 'error' })
      }
    },

    async onReachBottom() {
      if (!this.data.nextCursor || this.data.loadingMore) return
      this.setData({ loadingMore: true })
      try {
        const page = await api.request('/api/v1/engineer/customers', { data: { ...this.filters(), cursor: this.data.nextCursor } })
        this.setData({ items: [...this.data.items, ...page.items.map(row)], nextCursor: page.next_cursor })
      } catch (err) {
        api.showError(err)
      } finally {
        this.setData({ loadingMore: false })
      }
    },

    /** @param {WechatMiniprogram.Input} e */
    onQuery(e) {
      this.setData({ query: e.detail.value })
    },

    onSearch() {
      this.setData({ q: this.data.query.trim(), state: 'loading' })
      this.load()
    },

    onClear() {
      this.setData({ query: '', q: '', state: 'loading' })
      this.load()
    },

    /** @param {WechatMiniprogram.PickerChange} e */
    onEstate(e) {
      this.setData({ estateIndex: Number(e.detail.value), state: 'loading' })
      this.load()
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onOpen(e) {
      wx.navigateTo({ url: `/pages/work/customer/index?id=${e.currentTarget.dataset.id}` })
    },

    onCode() {
      wx.navigateTo({ url: '/pages/work/code/index' })
    },
  },
})
