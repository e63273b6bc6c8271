// @ts-check
/**
 * 保养提醒. With `?id=` (what the maintenance notice opens: pages/care/index?id=<item>) one care
 * item (GET /api/v1/me/reminders/{id}): what is due, for which appliance, when, and who will come;
 * 预约上门 books it in one tap (POST /api/v1/me/reminders/{id}/book with an Idempotency-Key): a
 * service request pre-filled with the care, assigned to that steward, shown as booked with its
 * order. A booked item shows its order, a closed one how it closed. Without an id: the care my
 * appliances need now or soon (GET /api/v1/me/reminders, the soonest first, cursor-paginated).
 */
const api = require('../../utils/api')
const form = require('../../utils/form')
const format = require('../../utils/format')
const pagedList = require('../../utils/paged-list')

/** A care item's status as the household reads it (the server's labels are the steward's). */
const STATUS = { open: '待预约', snoozed: '待预约', booked: '已预约', done: '已完成', done_elsewhere: '已在别处完成', declined: '已跳过', cancelled: '已取消' }
const BADGES = { open: 'warn', snoozed: 'warn', booked: '', done: 'muted', done_elsewhere: 'muted', declined: 'muted', cancelled: 'muted' }
/** How a closed item closed. */
const CLOSED = {
  done: '这次保养已完成',
  done_elsewhere: '这次保养已在别处完成',
  declined: '这次保养已跳过，下次到期时会再提醒您',
  cancelled: '这条提醒已取消（家电已停用或保养计划有调整）',
}

/**
 * A care item as the page shows it.
 * @param {any} i the MyCareItemSchema shape
 */
function care(i) {
  const status = /** @type {keyof typeof STATUS} */ (i.status)
  const waiting = i.status === 'open' || i.status === 'snoozed'
  const steward = i.steward
  return {
    id: i.id,
    status: i.status,
    statusText: STATUS[status] || i.status_label,
    badge: BADGES[status] === undefined ? 'muted' : BADGES[status],
    plan: i.plan.name,
    description: i.plan.description || '',
    product: `${i.product.category_label} ${i.product.model_name}`,
    serial: i.product.serial,
    address: i.product.address || '',
    due: format.day(i.due_on),
    dueIn: waiting ? format.dueIn(i.days_left) : '',
    dueBadge: i.overdue ? 'danger' : 'warn',
    steward: steward ? {
      name: `${steward.name}师傅`,
      photo: api.mediaUrl(steward.photo_url),
      initial: (steward.name || '?').slice(0, 1),
      role: i.is_my_steward ? '您的管家' : '小区工程师',
    } : null,
    estate: i.estate ? i.estate.name : '',
    canBook: Boolean(i.can_book),
    orderId: i.order_id || 0,
    closed: CLOSED[/** @type {keyof typeof CLOSED} */ (i.status)] || '',
  }
}

Component({
  behaviors: [pagedList({ path: '/api/v1/me/reminders', shape: care })],
  data: {
    id: 0,
    /** @type {ReturnType<typeof care> | null} the one item (`?id=`) */
    item: null,
    /** @type {ReturnType<typeof care>[]} */
    items: [],
    /** @type {{ id: number, status: string, engineer: string } | null} the order the booking made (or found) */
    order: null,
    preferredTime: '',
    booking: false,
    bookError: '',
    /** the Idempotency-Key of this booking (kept for a retry after no answer) */
    key: '',
  },
  methods: {
    /** @param {Record<string, string | undefined>} options */
    onLoad(options) {
      const id = Number(options.id) || 0
      this.setData({ id })
      wx.setNavigationBarTitle({ title: '保养提醒' })
      this.load()
    },

    /** Back from an order: a listed item may have been booked meanwhile. */
    onShow() {
      if (!this.data.id && (this.data.state === 'ready' || this.data.state === 'empty')) this.load()
    },

    async load() {
      if (!this.data.id) return this.loadList()
      try {
        const item = care(await api.request(`/api/v1/me/reminders/${this.data.id}`))
        this.setData({ item, state: 'ready' })
      } catch (err) {
        if (err instanceof api.ApiError && err.status === 404) this.setData({ state: 'missing' })
        else this.loadFailed(err)
      }
    },

    /** @param {WechatMiniprogram.Input} e */
    onPreferredTime(e) {
      this.setData({ preferredTime: e.detail.value, key: '', bookError: '' })
    },

    /** 预约上门: one tap books the care with my steward. */
    async onBook() {
      const item = this.data.item
      if (!item || !item.canBook || this.data.booking) return
      this.setData({ booking: true, bookError: '' })
      try {
        const answer = await form.sendWithKey(this, 'key', `/api/v1/me/reminders/${item.id}/book`,
          { method: 'POST', data: { preferred_time: this.data.preferredTime.trim() || null } })
        const order = answer.order
        this.setData({
          item: care(answer.item),
          order: { id: order.id, status: order.status_label, engineer: order.engineer ? `${order.engineer.name}师傅` : '' },
        })
        wx.showToast({ title: answer.created ? '已预约上门' : '已预约过，这是您的服务单', icon: answer.created ? 'success' : 'none' })
      } catch (err) {
        if (form.unanswered(err)) {
          api.showError(err)
        } else if (err instanceof api.ApiError && err.code === 'care_item_closed') {
          api.showError(err)
          await this.load()
        } else {
          const fields = Object.values(form.fieldErrors(err))
          this.setData({ bookError: fields.length ? fields[0] : /** @type {Error} */ (err).message })
        }
      } finally {
        this.setData({ booking: false })
      }
    },

    onOrder() {
      const id = this.data.order ? this.data.order.id : this.data.item && this.data.item.orderId
      if (id) wx.navigateTo({ url: `/pages/order/index?id=${id}` })
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onOpen(e) {
      wx.navigateTo({ url: `/pages/care/index?id=${e.currentTarget.dataset.id}` })
    },

    onProducts() {
      wx.navigateTo({ url: '/pages/products/index' })
    },

    onBack() {
      wx.navigateBack()
    },
  },
})
