// @ts-check
/**
 * 我的跟进: the follow-ups of my current customers (GET /api/v1/engineer/follow-ups?status=,
 * cursor-paginated) — whoever wrote them: the book follows the customer. Tabs as on the web
 * workbench: 待跟进 (open, the soonest due first, so the overdue ones lead), 已逾期, 已完成 (the
 * latest due first). 完成 marks one done (POST /api/v1/engineer/follow-ups/{id}/done, with an
 * Idempotency-Key); a tap on the customer opens their book, where follow-ups are written.
 * `?status=overdue` opens a tab.
 */
const api = require('../../../utils/api')
const form = require('../../../utils/form')
const format = require('../../../utils/format')
const pagedList = require('../../../utils/paged-list')

const PAGE_SIZE = 20
const TABS = [
  { key: 'open', title: '待跟进' },
  { key: 'overdue', title: '已逾期' },
  { key: 'done', title: '已完成' },
]
const EMPTY = /** @type {Record<string, string>} */ ({ open: '没有待跟进的事项', overdue: '没有逾期的跟进', done: '还没有完成的跟进' })

/** @param {any} f the API's follow-up (CustomerFollowUpSchema) */
function followUp(f) {
  return {
    id: f.id,
    customerId: f.resident_id,
    customer: f.resident_name,
    due: format.day(f.due_on),
    text: f.text,
    author: f.author ? f.author.name : '',
    overdue: Boolean(f.overdue),
    done: Boolean(f.done),
    doneAt: f.done_at ? format.datetime(f.done_at) : '',
  }
}

Component({
  behaviors: [pagedList({ path: '/api/v1/engineer/follow-ups', shape: followUp, cursor: 'nextCursor' })],
  data: {
    tabs: TABS,
    status: 'open',
    emptyMessage: EMPTY.open,
    /** @type {ReturnType<typeof followUp>[]} */
    items: [],
    loaded: false,
    /** @type {Record<number, string>} the Idempotency-Key of each follow-up being marked done */
    keys: {},
    /** the follow-up being marked done (0: none) */
    busy: 0,
  },
  methods: {
    /** @param {Record<string, string | undefined>} options */
    onLoad(options) {
      const status = TABS.some((t) => t.key === options.status) ? /** @type {string} */ (options.status) : 'open'
      this.setData({ status, emptyMessage: EMPTY[status] })
      this.load()
    },

    /** Back from a customer's book: follow-ups may have been added or done there. */
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
      this.setData({ status, emptyMessage: EMPTY[status], state: 'loading', items: [], nextCursor: null })
      this.load()
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onCustomer(e) {
      wx.navigateTo({ url: `/pages/work/customer/index?id=${e.currentTarget.dataset.id}` })
    },

    /** Done: it leaves the open lists (the 已完成 tab shows it). @param {WechatMiniprogram.TouchEvent} e */
    async onDone(e) {
      const id = Number(e.currentTarget.dataset.id)
      if (this.data.busy) return
      this.setData({ busy: id })
      try {
        await form.sendWithKey(this, `keys.${id}`, `/api/v1/engineer/follow-ups/${id}/done`, { method: 'POST' })
        const items = this.data.items.filter((f) => f.id !== id)
        this.setData({ items, state: items.length ? 'ready' : 'empty' })
        wx.showToast({ title: '已完成', icon: 'success' })
      } catch (err) {
        api.showError(err)
      } finally {
        this.setData({ busy: 0 })
      }
    },
  },
})
