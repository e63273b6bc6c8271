// @ts-check
/**
 * My service orders (GET /api/v1/me/service-orders, newest first, cursor-paginated): each with
 * its status badge, type, time and engineer; a tap opens the order. Pull down to refresh; coming
 * back from an order reloads the list (its status may have changed there).
 */
const format = require('../../utils/format')
const pagedList = require('../../utils/paged-list')

const PAGE_SIZE = 20
/** The badge colour of each status: open ones wait for something, cancelled ones are grey. */
const BADGE = /** @type {Record<string, string>} */ ({ requested: 'warn', assigned: 'warn', scheduled: 'warn', completed: '', cancelled: 'muted' })

/** @param {any} order the API's service order, as the list shows it */
function row(order) {
  const when = order.status === 'scheduled' && order.scheduled_for
    ? `上门 ${format.datetime(order.scheduled_for)}`
    : `申请于 ${format.datetime(order.requested_at)}`
  return {
    id: order.id,
    type: order.service_type_label,
    status: format.ORDER_STATUS[/** @type {keyof typeof format.ORDER_STATUS} */ (order.status)] || order.status_label,
    badge: BADGE[order.status] || '',
    when,
    engineer: order.engineer ? `${order.engineer.name}师傅` : '等待派单',
    address: order.address,
    toReview: order.status === 'completed' && !order.review && !order.rating,
  }
}

Component({
  behaviors: [pagedList({ path: '/api/v1/me/service-orders', query: { limit: PAGE_SIZE }, shape: row, cursor: 'nextCursor' })],
  data: {
    /** @type {ReturnType<typeof row>[]} */
    items: [],
    loaded: false,
  },
  methods: {
    onShow() {
      if (this.data.loaded) this.load()
    },

    listExtra() {
      return { loaded: true }
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onOpen(e) {
      wx.navigateTo({ url: `/pages/order/index?id=${e.currentTarget.dataset.id}` })
    },

    onRequest() {
      const estateId = getApp().globalData.estateId
      wx.navigateTo({ url: `/pages/request/index${estateId ? `?estate_id=${estateId}` : ''}` })
    },
  },
})
