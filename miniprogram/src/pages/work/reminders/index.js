// @ts-check
/**
 * 保养待办: my care items as an engineer (GET /api/v1/engineer/reminders?status=, cursor-paginated)
 * in five tabs with their sizes (GET /api/v1/engineer/reminders/counts): 待处理 (open, due today or
 * later, soonest first), 已逾期, 稍后提醒, 已预约, 已完成 (the last 90 days) — the web workbench's
 * 保养提醒. Each item: the appliance and the care due, the due date, the customer (the phone in full
 * only when the server sends it so, with a call button) and where. On a waiting item I record what
 * became of it (POST .../reminders/{id}/outcome with an Idempotency-Key): 代客预约 (a service order
 * for the customer, with the time they would like), 稍后提醒 (a date, tomorrow to 90 days ahead),
 * 已在别处完成, 客户不需要 (after a confirmation). `?status=` opens a tab.
 */
const api = require('../../../utils/api')
const dialog = require('../../../utils/dialog')
const form = require('../../../utils/form')
const format = require('../../../utils/format')
const pagedList = require('../../../utils/paged-list')

const PAGE_SIZE = 20
const DAY_MS = 24 * 3600 * 1000
/** community.care.services.MAX_SNOOZE_DAYS */
const MAX_SNOOZE_DAYS = 90
const DEFAULT_SNOOZE_DAYS = 7
const TABS = [
  { key: 'due', title: '待处理' },
  { key: 'overdue', title: '已逾期' },
  { key: 'snoozed', title: '稍后提醒' },
  { key: 'booked', title: '已预约' },
  { key: 'done', title: '已完成' },
]
const EMPTY = /** @type {Record<string, string>} */ ({
  due: '近期没有待处理的保养', overdue: '没有逾期的保养', snoozed: '没有稍后提醒的保养',
  booked: '没有已预约的保养', done: '近 90 天没有完成记录',
})
/** The outcomes, as the server names them (care.services.OUTCOME_LABELS). */
const OUTCOMES = [
  { key: 'booked', title: '代客预约' },
  { key: 'snoozed', title: '稍后提醒' },
  { key: 'done_elsewhere', title: '已在别处完成' },
  { key: 'declined', title: '客户不需要' },
]

/**
 * When it is due, in a word and a badge style.
 * @param {any} i the API's care item
 * @returns {[string, string]}
 */
function dueWord(i) {
  if (i.status === 'booked') return ['已预约', '']
  if (i.status !== 'open' && i.status !== 'snoozed') return [i.status_label, i.status === 'done' ? '' : 'muted']
  if (i.days_left < 0) return [`逾期 ${-i.days_left} 天`, 'danger']
  if (i.days_left === 0) return ['今天到期', 'warn']
  return [`还有 ${i.days_left} 天`, 'muted']
}

/** @param {any} i the API's care item (CareItemSchema) */
function reminder(i) {
  const [when, badge] = dueWord(i)
  const customer = i.customer || {}
  return {
    id: i.id,
    status: i.status,
    waiting: i.status === 'open' || i.status === 'snoozed',
    model: i.product.model_name || i.product.model_code,
    category: i.product.category_label,
    serial: i.product.serial,
    plan: i.plan.name,
    service: i.plan.service_type_label,
    due: format.day(i.due_on),
    when,
    badge,
    snoozedUntil: i.snoozed_until ? `${format.day(i.snoozed_until)} 再提醒` : '',
    customer: customer.name || '',
    /** the customer's book opens only for my own customers (the steward's items) */
    customerId: i.route === 'steward' && customer.id ? customer.id : 0,
    /** booking needs the owner's account */
    hasAccount: Boolean(customer.id),
    phone: customer.phone || '',
    canCall: Boolean(customer.phone_full && customer.phone),
    place: [i.estate ? i.estate.name : '', i.product.address].filter(Boolean).join(' · '),
    orderId: i.order_id || 0,
    outcomeNote: i.outcome_note || '',
    outcomeAt: i.outcome_at ? format.datetime(i.outcome_at) : '',
  }
}

/** @param {number} days from today, Beijing time @returns {string} "2026-12-12" */
const dayAhead = (days) => format.beijing(Date.now() + days * DAY_MS).date

Component({
  behaviors: [pagedList({ path: '/api/v1/engineer/reminders', shape: reminder, cursor: 'nextCursor' })],
  data: {
    tabs: TABS,
    status: 'due',
    emptyMessage: EMPTY.due,
    /** @type {Record<string, string>} the tabs' sizes ('' when the counts failed) */
    counts: {},
    /** @type {ReturnType<typeof reminder>[]} */
    items: [],
    loaded: false,
    // -- the outcome form, on one item at a time
    /** the item whose outcome is being recorded (0: none) */
    acting: 0,
    /** @type {{ key: string, title: string }[]} */
    outcomes: OUTCOMES,
    outcome: '',
    snoozeDate: '',
    firstSnooze: '',
    lastSnooze: '',
    preferredTime: '',
    note: '',
    formError: '',
    /** @type {Record<string, string>} */
    errors: {},
    sending: false,
    key: '',
  },
  methods: {
    /** @param {Record<string, string | undefined>} options */
    onLoad(options) {
      const status = TABS.some((t) => t.key === options.status) ? /** @type {string} */ (options.status) : 'due'
      this.setData({ status, emptyMessage: EMPTY[status] })
      this.load()
    },

    /** Back from a call or the customer's book: the lists may have moved on. */
    onShow() {
      if (this.data.loaded) this.load()
    },

    /** The list of the tab and the tabs' sizes. */
    async load() {
      await Promise.all([this.loadList(), this.loadCounts()])
    },

    async loadCounts() {
      try {
        const counts = await api.request('/api/v1/engineer/reminders/counts')
        /** @type {Record<string, string>} */
        const shown = {}
        for (const t of TABS) shown[t.key] = String(counts[t.key])
        this.setData({ counts: shown })
      } catch (err) {
        // the tabs show without their sizes
      }
    },

    listQuery() {
      return { status: this.data.status, limit: PAGE_SIZE }
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
      const status = String(e.currentTarget.dataset.key)
      if (status === this.data.status) return
      this.setData({ status, emptyMessage: EMPTY[status], state: 'loading', items: [], nextCursor: null, acting: 0 })
      this.load()
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onCall(e) {
      const phone = String(e.currentTarget.dataset.phone || '')
      if (phone) wx.makePhoneCall({ phoneNumber: phone })
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onCustomer(e) {
      const id = Number(e.currentTarget.dataset.id)
      if (id) wx.navigateTo({ url: `/pages/work/customer/index?id=${id}` })
    },

    onOrders() {
      wx.navigateTo({ url: '/pages/work/orders/index?status=assigned' })
    },

    // -- the outcome ----------------------------------------------------------------------------

    /** @param {WechatMiniprogram.TouchEvent} e */
    onAct(e) {
      const id = Number(e.currentTarget.dataset.id)
      const item = this.data.items.find((i) => i.id === id)
      if (!item) return
      this.setData({
        acting: id,
        outcomes: item.hasAccount ? OUTCOMES : OUTCOMES.filter((o) => o.key !== 'booked'),
        outcome: '', preferredTime: '', note: '', formError: '', errors: {}, key: '',
        snoozeDate: dayAhead(DEFAULT_SNOOZE_DAYS), firstSnooze: dayAhead(1), lastSnooze: dayAhead(MAX_SNOOZE_DAYS),
      })
    },

    onCancelAct() {
      this.setData({ acting: 0 })
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onOutcome(e) {
      this.setData({ outcome: String(e.currentTarget.dataset.key), formError: '', errors: {} })
    },

    /** @param {WechatMiniprogram.PickerChange} e */
    onSnoozeDate(e) {
      this.setData({ snoozeDate: String(e.detail.value), errors: {} })
    },

    /** @param {WechatMiniprogram.Input} e */
    onPreferredTime(e) {
      this.setData({ preferredTime: e.detail.value })
    },

    /** @param {WechatMiniprogram.Input} e */
    onNote(e) {
      this.setData({ note: e.detail.value })
    },

    async onConfirmOutcome() {
      const { acting, outcome, sending } = this.data
      if (sending || !acting) return
      if (!outcome) {
        this.setData({ formError: '请选择处理结果' })
        return
      }
      /** @type {Record<string, any>} */
      const body = { outcome }
      if (outcome === 'snoozed') body.snoozed_until = this.data.snoozeDate
      if (outcome === 'booked' && this.data.preferredTime.trim()) body.preferred_time = this.data.preferredTime.trim()
      if ((outcome === 'done_elsewhere' || outcome === 'declined') && this.data.note.trim()) body.note = this.data.note.trim()
      if (outcome === 'declined') {
        const sure = await dialog.confirm({ title: '客户这次不需要？', content: '将跳过本次保养，按保养周期安排下一次。', confirmText: '确认' })
        if (!sure) return
      }
      this.setData({ sending: true, formError: '', errors: {} })
      try {
        const answer = await form.sendWithKey(this, 'key', `/api/v1/engineer/reminders/${acting}/outcome`, { method: 'POST', data: body })
        this.setData({ acting: 0 })
        if (outcome === 'booked') wx.showToast({ title: `已代客预约，服务单 #${answer.order ? answer.order.id : ''}`, icon: 'none' })
        else if (outcome === 'snoozed') wx.showToast({ title: `将于${format.day(answer.item.snoozed_until)}再提醒`, icon: 'none' })
        else wx.showToast({ title: '已记录', icon: 'success' })
        await this.load()
      } catch (err) {
        const known = /** @type {any} */ (err)
        const errors = form.fieldErrors(err)
        if (Object.keys(errors).length) {
          this.setData({ errors, formError: errors.outcome || '' })
        } else if (known instanceof api.ApiError && (known.code === 'care_item_closed' || known.code === 'care_item_booked')) {
          // someone else (the household's tap, an agent) got there first: show where it stands
          api.showError(err)
          this.setData({ acting: 0 })
          await this.load()
        } else {
          // no customer account, not a resident of the estate; or no answer (the key is kept for the retry)
          this.setData({ formError: (known && known.message) || '提交失败，请重试' })
        }
      } finally {
        this.setData({ sending: false })
      }
    },
  },
})
