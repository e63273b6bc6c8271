// @ts-check
/**
 * 我的家电: the appliances I registered (GET /api/v1/me/products, newest first, cursor-paginated),
 * each with its model, serial, install date, warranty (保修中 / 已过保) and its next due care. A tap
 * opens the product (pages/product/index?id=); 添加家电 opens the empty form. The top card leads to
 * the due care (pages/care/index) and offers the 保养提醒 subscribe message (purpose `maintenance`).
 */
const api = require('../../utils/api')
const format = require('../../utils/format')
const pagedList = require('../../utils/paged-list')
const subscribe = require('../../utils/subscribe')

/**
 * A product as the list shows it.
 * @param {any} p the ProductSchema shape
 */
function product(p) {
  const care = p.next_care
  return {
    id: p.id,
    name: p.model.name,
    code: p.model.code,
    category: p.model.category_label,
    image: api.mediaUrl(p.model.image_url),
    initial: (p.model.category_label || p.model.name || '?').slice(0, 1),
    serial: p.serial,
    installed: format.date(p.install_date),
    warrantyText: p.warranty_end ? (p.in_warranty ? '保修中' : '已过保') : '',
    warrantyBadge: p.in_warranty ? '' : 'muted',
    warrantyEnd: format.date(p.warranty_end),
    care: care ? {
      plan: care.plan_name,
      day: format.day(care.due_on),
      due: format.dueIn(care.days_left),
      badge: care.overdue ? 'danger' : care.days_left <= 30 ? 'warn' : 'muted',
    } : null,
  }
}

Component({
  behaviors: [pagedList({ path: '/api/v1/me/products', shape: product })],
  data: {
    /** @type {ReturnType<typeof product>[]} */
    items: [],
    subscribed: false,
  },
  methods: {
    /** Back from adding, editing or retiring one: the list may have changed. */
    onShow() {
      if (this.data.state === 'ready' || this.data.state === 'empty') this.load()
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onOpen(e) {
      wx.navigateTo({ url: `/pages/product/index?id=${e.currentTarget.dataset.id}` })
    },

    onAdd() {
      wx.navigateTo({ url: '/pages/product/index' })
    },

    onCare() {
      wx.navigateTo({ url: '/pages/care/index' })
    },

    onSubscribe() {
      return subscribe.offer(this, ['maintenance'], () => '已开启保养提醒')
    },
  },
})
