// @ts-check
/**
 * 消息通知: my in-app notices (GET /api/v1/me/notifications, newest first, cursor-paginated),
 * the unread ones marked. A tap marks the notice read and opens the page the server stored with
 * it (a tab page through switchTab: its query cannot travel, so an estate's id goes through
 * globalData.estateId as the bind page does, and the tab to show, `tab=offers`, through
 * globalData.estateTab); 全部已读 marks everything read.
 */
const api = require('../../utils/api')
const format = require('../../utils/format')
const pagedList = require('../../utils/paged-list')

/** The tab pages of app.json: wx.navigateTo cannot open them. */
const TAB_PAGES = ['pages/index/index', 'pages/estate/index', 'pages/me/index']
const KINDS = { order: '服务单', visit: '上门服务', redemption: '积分兑换', care: '保养提醒', offer: '小区优惠', activity: '社区活动',
  coupon: '优惠券' }

/**
 * A notice as the page shows it.
 * @param {any} n the NotificationSchema shape
 */
function shape(n) {
  return { ...n, when: format.datetime(n.created_at), kindText: KINDS[/** @type {keyof typeof KINDS} */ (n.kind)] || '通知' }
}

Component({
  behaviors: [pagedList({ path: '/api/v1/me/notifications', shape })],
  data: {
    /** @type {any[]} */
    items: [],
    unread: 0,
    marking: false,
  },
  methods: {
    /** @param {any} page */
    listExtra(page) {
      return { unread: page.unread_count }
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onOpen(e) {
      const index = Number(e.currentTarget.dataset.index)
      const notice = this.data.items[index]
      if (!notice) return
      if (!notice.read) this.markOne(index)
      if (notice.page) open(notice.page)
    },

    /** Mark one notice read (shown at once; the count comes back from the server). @param {number} index */
    async markOne(index) {
      const notice = this.data.items[index]
      this.setData({ [`items[${index}].read`]: true, unread: Math.max(0, this.data.unread - 1) })
      try {
        const marked = await api.request('/api/v1/me/notifications/read', { method: 'POST', data: { ids: [notice.id] } })
        this.setData({ unread: marked.unread_count })
      } catch (err) {
        // Not worth a toast while another page opens: the notice shows unread again next time.
      }
    },

    async onReadAll() {
      if (this.data.marking || !this.data.unread) return
      this.setData({ marking: true })
      try {
        const marked = await api.request('/api/v1/me/notifications/read', { method: 'POST', data: {} })
        this.setData({ items: this.data.items.map((n) => ({ ...n, read: true })), unread: marked.unread_count })
      } catch (err) {
        api.showError(err)
      } finally {
        this.setData({ marking: false })
      }
    },
  },
})

/**
 * Open a notice's page, as the server stored it ("pages/order/index?id=3").
 * @param {string} stored
 */
function open(stored) {
  const [path, query = ''] = stored.replace(/^\//, '').split('?')
  if (TAB_PAGES.includes(path)) {
    const match = /(?:^|&)id=(\d+)/.exec(query)
    const id = match ? Number(match[1]) : 0
    if (path === 'pages/estate/index' && id) getApp().globalData.estateId = id
    const tab = /(?:^|&)tab=(\w+)/.exec(query)
    if (path === 'pages/estate/index' && tab) getApp().globalData.estateTab = tab[1]
    wx.switchTab({ url: `/${path}` })
  } else {
    wx.navigateTo({ url: `/${path}${query ? `?${query}` : ''}` })
  }
}
