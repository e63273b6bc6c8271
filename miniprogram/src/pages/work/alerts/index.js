// @ts-check
/**
 * 健康预警: the red alerts of my current customers (GET /api/v1/engineer/health-alerts?status=,
 * newest first, cursor-paginated), as on the web workbench's customer list: who, the score when it
 * was raised and why, with the estate. 待处理 takes what I did about it (POST
 * .../health-alerts/{id}/handle {note}, with an Idempotency-Key; once); 已处理 shows who handled
 * it, when, and the note. A tap on the customer opens their book.
 */
const api = require('../../../utils/api')
const form = require('../../../utils/form')
const format = require('../../../utils/format')
const pagedList = require('../../../utils/paged-list')

const PAGE_SIZE = 20
const TABS = [
  { key: 'open', title: '待处理' },
  { key: 'handled', title: '已处理' },
]

/** @param {any} a the API's alert (HealthAlertSchema) */
function alert(a) {
  return {
    id: a.id,
    customerId: a.resident_id,
    customer: a.resident_name,
    score: a.score,
    estate: a.estate ? a.estate.name : '',
    reasons: (a.reasons || []).map((/** @type {any} */ r) => r.text).join('；'),
    raised: format.datetime(a.created_at),
    open: a.status === 'open',
    handled: a.handled_at ? `${a.handled_by_name || ''} ${format.datetime(a.handled_at)} 处理`.trim() : '',
    handledNote: a.handled_note || '',
  }
}

Component({
  behaviors: [pagedList({ path: '/api/v1/engineer/health-alerts', shape: alert, cursor: 'nextCursor' })],
  data: {
    tabs: TABS,
    status: 'open',
    /** @type {ReturnType<typeof alert>[]} */
    items: [],
    loaded: false,
    /** @type {Record<number, string>} what was done, by alert */
    notes: {},
    /** @type {Record<number, string>} a refusal, by alert */
    errors: {},
    /** @type {Record<number, string>} the Idempotency-Key of each alert being handled */
    keys: {},
    busy: 0,
  },
  methods: {
    /** @param {Record<string, string | undefined>} options */
    onLoad(options) {
      if (options && options.status === 'handled') this.setData({ status: 'handled' })
      this.load()
    },

    /** Back from a customer's book: an alert may have been handled meanwhile. */
    onShow() {
      if (this.data.loaded) this.load()
    },

    listQuery() {
      return { status: this.data.status, limit: PAGE_SIZE }
    },

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
      this.setData({ status, state: 'loading', items: [], nextCursor: null })
      this.load()
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onCustomer(e) {
      wx.navigateTo({ url: `/pages/work/customer/index?id=${e.currentTarget.dataset.id}` })
    },

    /** @param {WechatMiniprogram.Input} e */
    onNote(e) {
      const id = Number(e.currentTarget.dataset.id)
      this.setData({ [`notes.${id}`]: e.detail.value, [`errors.${id}`]: '' })
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    async onHandle(e) {
      const id = Number(e.currentTarget.dataset.id)
      const note = (this.data.notes[id] || '').trim()
      if (this.data.busy) return
      if (!note) {
        this.setData({ [`errors.${id}`]: '请写下处理说明，如：已电话回访' })
        return
      }
      this.setData({ busy: id })
      try {
        await form.sendWithKey(this, `keys.${id}`, `/api/v1/engineer/health-alerts/${id}/handle`, { method: 'POST', data: { note } })
        const items = this.data.items.filter((a) => a.id !== id)
        this.setData({ items, state: items.length ? 'ready' : 'empty' })
        wx.showToast({ title: '已处理', icon: 'success' })
      } catch (err) {
        const known = /** @type {any} */ (err)
        if (known instanceof api.ApiError && known.code === 'alert_already_handled') {
          api.showError(err)
          this.load()
        } else {
          const fields = form.fieldErrors(err)
          this.setData({ [`errors.${id}`]: fields.note || (known && known.message) || '提交失败，请重试' })
        }
      } finally {
        this.setData({ busy: 0 })
      }
    },
  },
})
