// @ts-check
/**
 * One service order as its engineer sees it (GET /api/v1/engineer/service-orders): type, status,
 * the customer's name, full phone (a tap calls) and address, the description and photos, the
 * times; and what the engineer does next. An assigned order is scheduled (date and time pickers →
 * POST .../schedule, Beijing time) or completed at once; a scheduled one is moved or completed
 * (after a confirmation → POST .../complete). `change` carries the updated order; `stale` says the
 * order changed elsewhere (reload it).
 */
const api = require('../../utils/api')
const format = require('../../utils/format')

const DAY_MS = 24 * 3600 * 1000
/** How far ahead an appointment may be picked. */
const AHEAD_DAYS = 60
/** The badge colour of each status: open ones wait for the engineer. */
const BADGE = /** @type {Record<string, string>} */ ({ requested: 'warn', assigned: 'warn', scheduled: 'warn', completed: '', cancelled: 'muted' })
/** What each status means to the engineer. */
const STATUS = /** @type {Record<string, string>} */ ({ requested: '待派单', assigned: '待预约', scheduled: '待完成', completed: '已完成', cancelled: '已取消' })

/** @param {any} order the API's service order */
function view(order) {
  const phone = order.contact_phone || ''
  const customer = order.customer_name || order.contact_name || '住户'
  return {
    id: order.id,
    type: order.service_type_label || order.service_type,
    status: STATUS[order.status] || order.status_label,
    badge: BADGE[order.status] || '',
    customer,
    contact: order.contact_name && order.contact_name !== customer ? `联系人 ${order.contact_name}` : '',
    phone,
    canCall: Boolean(phone) && !phone.includes('*'),
    address: order.address || '',
    description: order.description || '',
    photos: (order.photos || []).map(api.mediaUrl),
    requested: format.datetime(order.requested_at),
    preferred: order.preferred_slot || '',
    scheduled: order.scheduled_for ? format.datetime(order.scheduled_for) : '',
    completed: order.completed_at ? format.datetime(order.completed_at) : '',
    cancelled: order.status === 'cancelled' ? (order.cancel_reason || '已取消') : '',
    rating: order.rating || 0,
    open: order.status === 'assigned' || order.status === 'scheduled',
    scheduledAlready: order.status === 'scheduled',
  }
}

Component({
  options: { styleIsolation: 'apply-shared' },
  properties: {
    /** the API's service order */
    order: { type: Object, value: {} },
    /** the estate's name (the order carries only its id) */
    estateName: { type: String, value: '' },
  },
  data: {
    /** @type {ReturnType<typeof view> | null} */
    v: null,
    scheduling: false,
    date: '',
    time: '',
    firstDate: '',
    lastDate: '',
    scheduleError: '',
    busy: false,
  },
  observers: {
    /** @param {any} order */
    order(order) {
      if (order && order.id) this.setData({ v: view(order) })
    },
  },
  methods: {
    onCall() {
      const v = this.data.v
      if (v && v.canCall) wx.makePhoneCall({ phoneNumber: v.phone })
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onPreview(e) {
      const v = this.data.v
      if (v) wx.previewImage({ urls: v.photos, current: e.currentTarget.dataset.url })
    },

    onSchedule() {
      const order = /** @type {any} */ (this.data.order)
      const at = order.scheduled_for ? format.beijing(order.scheduled_for) : { date: format.beijing(Date.now() + DAY_MS).date, time: '09:00' }
      this.setData({
        scheduling: true, scheduleError: '', date: at.date, time: at.time,
        firstDate: format.beijing().date, lastDate: format.beijing(Date.now() + AHEAD_DAYS * DAY_MS).date,
      })
    },

    onCancelSchedule() {
      this.setData({ scheduling: false, scheduleError: '' })
    },

    /** @param {WechatMiniprogram.PickerChange} e */
    onDate(e) {
      this.setData({ date: String(e.detail.value), scheduleError: '' })
    },

    /** @param {WechatMiniprogram.PickerChange} e */
    onTime(e) {
      this.setData({ time: String(e.detail.value), scheduleError: '' })
    },

    async onConfirmSchedule() {
      if (this.data.busy) return
      const order = /** @type {any} */ (this.data.order)
      this.setData({ busy: true, scheduleError: '' })
      try {
        const updated = await api.request(`/api/v1/engineer/service-orders/${order.id}/schedule`, {
          method: 'POST', data: { scheduled_for: `${this.data.date}T${this.data.time}:00+08:00` } })
        this.setData({ scheduling: false })
        wx.showToast({ title: `已约 ${format.datetime(updated.scheduled_for)}`, icon: 'none' })
        this.triggerEvent('change', { order: updated })
      } catch (err) {
        this.refused(err, (known) => this.setData({ scheduleError: (known.fields.scheduled_for || [])[0] || known.message }))
      } finally {
        this.setData({ busy: false })
      }
    },

    onComplete() {
      if (this.data.busy) return
      const order = /** @type {any} */ (this.data.order)
      wx.showModal({
        title: '确认完成服务',
        content: `确认服务单 #${order.id} 已完成？住户会收到通知并可评价。`,
        confirmText: '已完成',
        success: (res) => { if (res.confirm) this.complete() },
      })
    },

    async complete() {
      const order = /** @type {any} */ (this.data.order)
      this.setData({ busy: true })
      try {
        const updated = await api.request(`/api/v1/engineer/service-orders/${order.id}/complete`, { method: 'POST' })
        wx.showToast({ title: '服务单已完成', icon: 'success' })
        this.triggerEvent('change', { order: updated })
      } catch (err) {
        const known = /** @type {any} */ (err)
        if (known && known.code === 'order_state_changed' && known.details && known.details.status === 'completed') {
          // Our first tap got through (a retry after a lost answer): it is done.
          wx.showToast({ title: '服务单已完成', icon: 'success' })
          this.triggerEvent('stale', { id: order.id })
        } else {
          this.refused(err)
        }
      } finally {
        this.setData({ busy: false })
      }
    },

    /**
     * A refused action: a 422 shown where it belongs (onInvalid), anything else in a toast; an
     * order that changed meanwhile is reloaded by the page.
     * @param {unknown} err
     * @param {(err: any) => void} [onInvalid]
     */
    refused(err, onInvalid) {
      const known = /** @type {any} */ (err)
      if (onInvalid && known instanceof api.ApiError && known.status === 422) {
        onInvalid(known)
        return
      }
      api.showError(err)
      if (known && (known.code === 'order_state_changed' || known.code === 'order_not_found')) {
        this.setData({ scheduling: false })
        this.triggerEvent('stale', { id: /** @type {any} */ (this.data.order).id })
      }
    },
  },
})
