// @ts-check
/**
 * 我的优惠券 (from 我的; coupon notices open it): my coupons in three tabs, 可用 (available and those
 * held by an open service request, the soonest to expire first), 已使用 and 已过期
 * (GET /api/v1/me/coupons?status=, cursor-paginated). Each shows its face value, its terms (the
 * amount or percentage with its cap, the minimum spend, the service types; a partner's coupon
 * names the partner), its own dates, where it came from, and its code (复制: told to the cashier
 * or the service system). `?status=used|expired` opens another tab.
 */
const format = require('../../utils/format')
const pagedList = require('../../utils/paged-list')

const TABS = ['available', 'used', 'expired']

/**
 * A coupon as the list shows it.
 * @param {any} c the API's CouponSchema
 */
function coupon(c) {
  const today = format.beijing().date
  const early = c.valid_from && c.valid_from > today
  let note = ''
  if (c.status === 'locked') note = '已用于一张服务单，服务完成后核销；服务单取消后退回'
  else if (c.status === 'used') note = `${format.datetime(c.used_at)} 已使用${c.discount_fen ? `，优惠 ${format.yuan(c.discount_fen)}` : ''}`
  else if (c.status === 'expired') note = `已于 ${format.date(c.expires_on)} 过期`
  else if (c.status === 'void') note = '已作废'
  return {
    id: c.id,
    code: c.code,
    codeText: c.code.replace(/(.{4})(?=.)/g, '$1 '),
    face: c.template.face,
    name: c.template.name,
    // activation.coupons.services.terms: the value, the threshold, the service types (and a partner), then the
    // template's validity and the per-user limit, which a held coupon's own dates replace
    terms: c.template.terms.slice(0, -2),
    validity: early ? `${format.date(c.valid_from)} 起可用，${format.date(c.expires_on)} 到期` : `有效期至 ${format.date(c.expires_on)}`,
    status: c.status,
    statusLabel: c.status_label,
    source: c.source_label,
    note,
    orderId: c.locked_order_id,
    active: c.status === 'available' || c.status === 'locked',
  }
}

Component({
  behaviors: [pagedList({ path: '/api/v1/me/coupons', shape: coupon })],
  data: {
    /** available | used | expired */
    tab: 'available',
    /** @type {ReturnType<typeof coupon>[]} */
    items: [],
  },
  methods: {
    /** @param {Record<string, string | undefined>} options */
    onLoad(options) {
      if (options && options.status && TABS.includes(options.status)) this.setData({ tab: options.status })
      this.load()
    },

    /** Back from a service request or an order: a coupon may be held or used now. */
    onShow() {
      if (this.data.state === 'ready' || this.data.state === 'empty') this.load()
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onTab(e) {
      const tab = String(e.currentTarget.dataset.tab)
      if (tab === this.data.tab) return
      this.setData({ tab, state: 'loading', items: [], cursor: null })
      this.load()
    },

    listQuery() {
      return { status: this.data.tab }
    },

    listKey() {
      return this.data.tab
    },

    /** 复制 the code. @param {WechatMiniprogram.TouchEvent} e */
    onCopy(e) {
      wx.setClipboardData({ data: String(e.currentTarget.dataset.code) })
    },

    /** The service order holding or using the coupon. @param {WechatMiniprogram.TouchEvent} e */
    onOrder(e) {
      wx.navigateTo({ url: `/pages/order/index?id=${e.currentTarget.dataset.order}` })
    },
  },
})
