// @ts-check
/**
 * One of my customers (`?id=`), their book as on the web workbench's 客户簿. At the top, always:
 * who they are (GET /api/v1/engineer/customers/{id}: name, the full phone — I am their steward —
 * with a call button, the estate they bound me in, where they live), their health (the band badge
 * with the score, the trend since it last changed and what lowered it) and their tags (chips: add
 * one, or a suggested one, POST .../tags; remove with ×, DELETE .../tags/{tag}). Below, in tabs:
 *
 * - 服务: my visits (a scan of my code each, with their rating) and their orders with me
 *   (GET /api/v1/engineer/service-orders?resident_id=, newest first), scheduled and completed here
 *   as on 我的服务单;
 * - 家电: their appliances (GET .../customers/{id}/products) with the warranty and the next care;
 *   登记家电 registers one at a visit (POST .../products: a model from GET /api/v1/product-models,
 *   the serial, the installation day);
 * - 跟进: their follow-ups (open by due date, then the latest done; 完成 marks one done) and a new
 *   one (a day and what to follow up);
 * - 备注: private notes, newest first, and a new one;
 * - 动态: everything with them, newest first (GET .../timeline).
 *
 * A tab loads when first opened; the bottom of the page loads more of a tab's list; pull-down
 * refresh reloads the customer and the tab shown (the others when opened next). Writes that create
 * something go with an Idempotency-Key (utils/form sendWithKey).
 */
const api = require('../../../utils/api')
const form = require('../../../utils/form')
const format = require('../../../utils/format')
const reloadable = require('../../../utils/reloadable')
const shared = require('../shared')

const DAY_MS = 24 * 3600 * 1000
/** book.services: a follow-up is due today to a year ahead */
const FOLLOW_UP_DAYS = 365
const DEFAULT_FOLLOW_UP_DAYS = 7
const MODELS_SHOWN = 50

const TABS = [
  { key: 'service', title: '服务' },
  { key: 'products', title: '家电' },
  { key: 'followUps', title: '跟进' },
  { key: 'notes', title: '备注' },
  { key: 'timeline', title: '动态' },
]

/** "12月5日" (with the year when not this one), a calendar day as the API sends it. @param {string | null | undefined} iso */
const dayOnly = (iso) => format.day(iso).split(' ')[0]

/** @param {any} p the API's product (ProductSchema) */
function product(p) {
  const care = p.next_care
  return {
    id: p.id,
    model: p.model.name,
    code: p.model.code,
    category: p.model.category_label,
    serial: p.serial,
    installed: p.install_date ? `${dayOnly(p.install_date)}安装` : '',
    warranty: p.in_warranty ? `保修至 ${dayOnly(p.warranty_end)}` : p.warranty_end ? '已过保' : '',
    inWarranty: Boolean(p.in_warranty),
    nextCare: care ? `${care.plan_name} · ${dayOnly(care.due_on)}${care.overdue ? `（已逾期 ${-care.days_left} 天）` : ''}` : '',
    careLate: Boolean(care && care.overdue),
    place: [p.estate_name, p.address].filter(Boolean).join(' · '),
    status: p.status === 'active' ? '' : p.status_label,
  }
}

/** @param {any} f the API's follow-up (CustomerFollowUpSchema) */
function followUp(f) {
  return {
    id: f.id, due: format.day(f.due_on), text: f.text, author: f.author ? f.author.name : '', overdue: Boolean(f.overdue),
    done: Boolean(f.done), doneAt: f.done_at ? format.datetime(f.done_at) : '',
  }
}

/** @param {any} n the API's note (CustomerNoteSchema) */
function note(n) {
  return { id: n.id, text: n.text, author: n.author ? n.author.name : '', at: format.datetime(n.created_at) }
}

/** @param {any} e the API's timeline entry (CustomerTimelineEntrySchema) */
function entry(e) {
  return { key: `${e.kind}:${e.at}:${JSON.stringify(e.links || {})}`, kind: e.kind, title: e.title, detail: e.detail || '', at: format.datetime(e.at) }
}

/**
 * The cursor-paginated lists of the page, each with its data names.
 * @type {Record<string, { path: (id: number) => string, query: (id: number) => Record<string, any>, shape: (x: any) => any, items: string, state: string, cursor: string }>}
 */
const LISTS = {
  orders: {
    path: () => '/api/v1/engineer/service-orders', query: (id) => ({ resident_id: id, limit: 10 }), shape: (o) => o,
    items: 'orders', state: 'ordersState', cursor: 'nextCursor',
  },
  products: {
    path: (id) => `/api/v1/engineer/customers/${id}/products`, query: () => ({ limit: 20 }), shape: product,
    items: 'products', state: 'productsState', cursor: 'productsCursor',
  },
  notes: {
    path: (id) => `/api/v1/engineer/customers/${id}/notes`, query: () => ({ limit: 20 }), shape: note,
    items: 'notes', state: 'notesState', cursor: 'notesCursor',
  },
  timeline: {
    path: (id) => `/api/v1/engineer/customers/${id}/timeline`, query: () => ({ limit: 20 }), shape: entry,
    items: 'timeline', state: 'timelineState', cursor: 'timelineCursor',
  },
}
/** The list each tab shows (跟进 is one answer, not paginated). */
const TAB_LISTS = /** @type {Record<string, string>} */ ({ service: 'orders', products: 'products', notes: 'notes', timeline: 'timeline' })

/** @param {number} days from today, Beijing time @returns {string} "2026-12-12" */
const dayAhead = (days) => format.beijing(Date.now() + days * DAY_MS).date

Component({
  behaviors: [reloadable],
  data: {
    id: 0,
    /** loading | ready | error */
    state: 'loading',
    errorMessage: '',
    retry: true,
    /** @type {any} */
    customer: null,
    initial: '',
    since: '',
    /** the estates they live in */
    homes: '',
    health: shared.health(null),
    healthAt: '',
    /** @type {{ id: number, when: string, estate: string, rating: number, comment: string, ref: string }[]} */
    visits: [],
    /** @type {Record<number, string>} */
    estateNames: {},
    tabs: TABS,
    tab: 'service',
    /** which tabs show what the server has now (the others load when opened) */
    fresh: /** @type {Record<string, boolean>} */ ({}),
    loadingMore: false,
    // -- 服务
    /** @type {any[]} */
    orders: [],
    ordersState: 'loading',
    /** @type {string | null} */
    nextCursor: null,
    // -- tags
    /** @type {string[]} */
    tags: [],
    /** @type {string[]} suggested tags not on the customer yet */
    suggested: [],
    tagging: false,
    tagInput: '',
    tagError: '',
    tagKey: '',
    tagBusy: false,
    // -- 家电
    /** @type {ReturnType<typeof product>[]} */
    products: [],
    productsState: 'loading',
    /** @type {string | null} */
    productsCursor: null,
    registering: false,
    /** @type {{ id: number, label: string }[]} */
    models: [],
    /** loading | ready | empty | error */
    modelsState: 'loading',
    modelQuery: '',
    modelIndex: -1,
    serial: '',
    installDate: '',
    today: '',
    /** @type {Record<string, string>} */
    regErrors: {},
    regError: '',
    regBusy: false,
    // -- 跟进
    /** @type {ReturnType<typeof followUp>[]} */
    followUps: [],
    followUpsState: 'loading',
    fuDate: '',
    fuLast: '',
    fuText: '',
    /** @type {Record<string, string>} */
    fuErrors: {},
    fuBusy: false,
    fuKey: '',
    /** @type {Record<number, string>} the Idempotency-Key of each follow-up being marked done */
    doneKeys: {},
    doneBusy: 0,
    // -- 备注
    /** @type {ReturnType<typeof note>[]} */
    notes: [],
    notesState: 'loading',
    /** @type {string | null} */
    notesCursor: null,
    noteText: '',
    noteError: '',
    noteBusy: false,
    noteKey: '',
    // -- 动态
    /** @type {ReturnType<typeof entry>[]} */
    timeline: [],
    timelineState: 'loading',
    /** @type {string | null} */
    timelineCursor: null,
  },
  methods: {
    /** @param {Record<string, string | undefined>} options */
    onLoad(options) {
      const id = Number(options.id || 0)
      if (!id) {
        this.setData({ state: 'error', errorMessage: '没有找到这位客户', retry: false })
        return
      }
      const today = format.beijing().date
      this.setData({ id, today, installDate: today, fuDate: dayAhead(DEFAULT_FOLLOW_UP_DAYS), fuLast: dayAhead(FOLLOW_UP_DAYS) })
      this.load()
    },

    /** The customer and the tab shown (again); the other tabs load when opened next. */
    async load() {
      this.setData({ fresh: {} })
      await Promise.all([this.loadCustomer(), this.loadTab(this.data.tab)])
    },

    async loadCustomer() {
      try {
        const customer = await api.request(`/api/v1/engineer/customers/${this.data.id}`)
        /** @type {Record<number, string>} */
        const names = {}
        for (const r of customer.estates) names[r.estate.id] = r.estate.name
        if (customer.bound_estate) names[customer.bound_estate.id] = customer.bound_estate.name
        wx.setNavigationBarTitle({ title: customer.display_name || '客户' })
        this.setData({
          state: 'ready', customer, estateNames: names,
          initial: (customer.display_name || '住').slice(0, 1),
          since: format.datetime(customer.since, { time: false }),
          homes: customer.estates.map((/** @type {any} */ r) => r.estate.name).join('、'),
          health: shared.health(customer.health),
          healthAt: customer.health ? format.datetime(customer.health.computed_at) : '',
          tags: customer.tags || [],
          visits: customer.visits.map((/** @type {any} */ v) => ({
            id: v.id, when: format.datetime(v.created_at), estate: names[v.estate_id] || '',
            rating: v.rating || 0, comment: v.comment || '', ref: v.visit_ref || '',
          })),
        })
      } catch (err) {
        const known = /** @type {any} */ (err)
        if (this.data.state === 'ready') api.showError(err)
        else if (known instanceof api.ApiError && known.status === 404) this.setData({ state: 'error', errorMessage: known.message, retry: false })
        else this.setData({ state: 'error', errorMessage: '加载失败，请检查网络', retry: true })
      }
    },

    /** @param {string} tab */
    async loadTab(tab) {
      this.setData({ [`fresh.${tab}`]: true })
      if (tab === 'followUps') await this.loadFollowUps()
      else await this.loadList(TAB_LISTS[tab])
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onTab(e) {
      const tab = String(e.currentTarget.dataset.key)
      if (tab === this.data.tab) return
      this.setData({ tab })
      if (!this.data.fresh[tab]) this.loadTab(tab)
    },

    // -- the lists ----------------------------------------------------------------------------

    /** The first page of one of the lists (again). @param {string} name */
    async loadList(name) {
      const list = LISTS[name]
      try {
        const page = await api.request(list.path(this.data.id), { data: list.query(this.data.id) })
        this.setData({
          [list.items]: page.items.map(list.shape), [list.cursor]: page.next_cursor || null,
          [list.state]: page.items.length ? 'ready' : 'empty',
        })
      } catch (err) {
        this.loadFailed(err, {}, list.state)
      }
    },

    /** The next page of the tab's list, if any. */
    async onReachBottom() {
      const name = TAB_LISTS[this.data.tab]
      if (!name) return
      const list = LISTS[name]
      const data = /** @type {Record<string, any>} */ (this.data)
      if (!data[list.cursor] || data.loadingMore) return
      this.setData({ loadingMore: true })
      try {
        const page = await api.request(list.path(this.data.id), { data: { ...list.query(this.data.id), cursor: data[list.cursor] } })
        this.setData({ [list.items]: [...data[list.items], ...page.items.map(list.shape)], [list.cursor]: page.next_cursor || null })
      } catch (err) {
        api.showError(err)
      } finally {
        this.setData({ loadingMore: false })
      }
    },

    /** 重试 of a list that failed to load. @param {string} name */
    retryList(name) {
      this.setData({ [LISTS[name].state]: 'loading' })
      this.loadList(name)
    },

    onRetryOrders() {
      this.retryList('orders')
    },

    onRetryProducts() {
      this.retryList('products')
    },

    onRetryNotes() {
      this.retryList('notes')
    },

    onRetryTimeline() {
      this.retryList('timeline')
    },

    onRetryFollowUps() {
      this.setData({ followUpsState: 'loading' })
      this.loadFollowUps()
    },

    // -- 服务 ---------------------------------------------------------------------------------

    /** @param {WechatMiniprogram.CustomEvent<{ order: any }>} e */
    onOrderChange(e) {
      const updated = e.detail.order
      this.setData({ orders: this.data.orders.map((o) => (o.id === updated.id ? updated : o)), 'fresh.timeline': false })
    },

    onOrderStale() {
      this.loadList('orders')
    },

    onCall() {
      const phone = this.data.customer && this.data.customer.phone
      if (phone) wx.makePhoneCall({ phoneNumber: phone })
    },

    // -- tags -----------------------------------------------------------------------------------

    /** The add row, with the suggested tags (GET .../tags). */
    async onTagging() {
      if (this.data.tagging) {
        this.setData({ tagging: false })
        return
      }
      this.setData({ tagging: true, tagInput: '', tagError: '' })
      try {
        const answer = await api.request(`/api/v1/engineer/customers/${this.data.id}/tags`)
        this.showTags(answer)
      } catch (err) {
        // the row works without suggestions
      }
    },

    /** @param {{ items: string[], suggested: string[] }} answer */
    showTags(answer) {
      this.setData({ tags: answer.items, suggested: answer.suggested.filter((t) => !answer.items.includes(t)) })
    },

    /** @param {WechatMiniprogram.Input} e */
    onTagInput(e) {
      this.setData({ tagInput: e.detail.value, tagError: '' })
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onSuggested(e) {
      this.addTag(String(e.currentTarget.dataset.tag))
    },

    onAddTag() {
      this.addTag(this.data.tagInput.trim())
    },

    /** @param {string} tag */
    async addTag(tag) {
      if (this.data.tagBusy) return
      if (!tag) {
        this.setData({ tagError: '请输入标签' })
        return
      }
      this.setData({ tagBusy: true, tagError: '' })
      try {
        const answer = await form.sendWithKey(this, 'tagKey', `/api/v1/engineer/customers/${this.data.id}/tags`, { method: 'POST', data: { tag } })
        this.showTags(answer)
        this.setData({ tagInput: '', tagging: false, 'fresh.timeline': false })
      } catch (err) {
        const known = /** @type {any} */ (err)
        this.setData({ tagError: form.fieldErrors(err).tag || (known && known.message) || '添加失败，请重试' })
      } finally {
        this.setData({ tagBusy: false })
      }
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    async onRemoveTag(e) {
      const tag = String(e.currentTarget.dataset.tag)
      if (this.data.tagBusy) return
      this.setData({ tagBusy: true })
      try {
        const answer = await api.request(`/api/v1/engineer/customers/${this.data.id}/tags/${encodeURIComponent(tag)}`, { method: 'DELETE' })
        this.showTags(answer)
      } catch (err) {
        api.showError(err)
      } finally {
        this.setData({ tagBusy: false })
      }
    },

    // -- 家电 ---------------------------------------------------------------------------------

    onRegister() {
      if (this.data.registering) {
        this.setData({ registering: false })
        return
      }
      this.setData({ registering: true, regErrors: {}, regError: '' })
      if (this.data.modelsState !== 'ready') this.loadModels()
    },

    /** The catalogue's models (GET /api/v1/product-models), filtered by code or name. */
    async loadModels() {
      this.setData({ modelsState: 'loading' })
      try {
        const page = await api.request('/api/v1/product-models', { data: { limit: MODELS_SHOWN, q: this.data.modelQuery.trim() || undefined } })
        const models = page.items.map((/** @type {any} */ m) => ({ id: m.id, label: `${m.category_label} · ${m.name}（${m.code}）` }))
        this.setData({ models, modelIndex: models.length === 1 ? 0 : -1, modelsState: models.length ? 'ready' : 'empty' })
      } catch (err) {
        this.setData({ modelsState: 'error' })
      }
    },

    /** @param {WechatMiniprogram.Input} e */
    onModelQuery(e) {
      this.setData({ modelQuery: e.detail.value })
    },

    onSearchModels() {
      this.loadModels()
    },

    /** @param {WechatMiniprogram.PickerChange} e */
    onModel(e) {
      this.setData({ modelIndex: Number(e.detail.value), 'regErrors.model_id': '' })
    },

    /** @param {WechatMiniprogram.Input} e */
    onSerial(e) {
      this.setData({ serial: e.detail.value, 'regErrors.serial': '' })
    },

    /** @param {WechatMiniprogram.PickerChange} e */
    onInstallDate(e) {
      this.setData({ installDate: String(e.detail.value), 'regErrors.install_date': '' })
    },

    /** Registration is idempotent by nature (the same serial for the same customer answers it again). */
    async onSubmitProduct() {
      if (this.data.regBusy) return
      const model = this.data.models[this.data.modelIndex]
      const serial = this.data.serial.trim()
      /** @type {Record<string, string>} */
      const errors = {}
      if (!model) errors.model_id = '请选择型号'
      if (!serial) errors.serial = '请填写序列号'
      if (Object.keys(errors).length) {
        this.setData({ regErrors: errors, regError: '' })
        return
      }
      this.setData({ regBusy: true, regErrors: {}, regError: '' })
      try {
        await api.request(`/api/v1/engineer/customers/${this.data.id}/products`, {
          method: 'POST', data: { model_id: model.id, serial, install_date: this.data.installDate || null } })
        wx.showToast({ title: '已登记', icon: 'success' })
        this.setData({ registering: false, serial: '', modelIndex: -1, 'fresh.timeline': false })
        await this.loadList('products')
      } catch (err) {
        const known = /** @type {any} */ (err)
        const fields = form.fieldErrors(err)
        if (fields.model_code && !fields.model_id) fields.model_id = fields.model_code
        if (Object.keys(fields).length) this.setData({ regErrors: fields })
        else this.setData({ regError: (known && known.message) || '登记失败，请重试' })
      } finally {
        this.setData({ regBusy: false })
      }
    },

    // -- 跟进 ---------------------------------------------------------------------------------

    async loadFollowUps() {
      try {
        const answer = await api.request(`/api/v1/engineer/customers/${this.data.id}/follow-ups`)
        this.setData({ followUps: answer.items.map(followUp), followUpsState: answer.items.length ? 'ready' : 'empty' })
      } catch (err) {
        this.loadFailed(err, {}, 'followUpsState')
      }
    },

    /** @param {WechatMiniprogram.PickerChange} e */
    onFollowUpDate(e) {
      this.setData({ fuDate: String(e.detail.value), 'fuErrors.due_on': '' })
    },

    /** @param {WechatMiniprogram.Input} e */
    onFollowUpText(e) {
      this.setData({ fuText: e.detail.value, 'fuErrors.text': '' })
    },

    async onAddFollowUp() {
      if (this.data.fuBusy) return
      const text = this.data.fuText.trim()
      if (!text) {
        this.setData({ fuErrors: { text: '请写下要跟进的事' } })
        return
      }
      this.setData({ fuBusy: true, fuErrors: {} })
      try {
        await form.sendWithKey(this, 'fuKey', `/api/v1/engineer/customers/${this.data.id}/follow-ups`, {
          method: 'POST', data: { due_on: this.data.fuDate, text } })
        wx.showToast({ title: '已添加跟进', icon: 'success' })
        this.setData({ fuText: '', 'fresh.timeline': false })
        await this.loadFollowUps()
      } catch (err) {
        const known = /** @type {any} */ (err)
        const fields = form.fieldErrors(err)
        this.setData({ fuErrors: Object.keys(fields).length ? fields : { form: (known && known.message) || '添加失败，请重试' } })
      } finally {
        this.setData({ fuBusy: false })
      }
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    async onFollowUpDone(e) {
      const id = Number(e.currentTarget.dataset.id)
      if (this.data.doneBusy) return
      this.setData({ doneBusy: id })
      try {
        const done = await form.sendWithKey(this, `doneKeys.${id}`, `/api/v1/engineer/follow-ups/${id}/done`, { method: 'POST' })
        this.setData({ followUps: this.data.followUps.map((f) => (f.id === id ? followUp(done) : f)), 'fresh.timeline': false })
      } catch (err) {
        api.showError(err)
      } finally {
        this.setData({ doneBusy: 0 })
      }
    },

    // -- 备注 ---------------------------------------------------------------------------------

    /** @param {WechatMiniprogram.Input} e */
    onNoteText(e) {
      this.setData({ noteText: e.detail.value, noteError: '' })
    },

    async onAddNote() {
      if (this.data.noteBusy) return
      const text = this.data.noteText.trim()
      if (!text) {
        this.setData({ noteError: '请写下备注内容' })
        return
      }
      this.setData({ noteBusy: true, noteError: '' })
      try {
        const saved = await form.sendWithKey(this, 'noteKey', `/api/v1/engineer/customers/${this.data.id}/notes`, { method: 'POST', data: { text } })
        this.setData({ notes: [note(saved), ...this.data.notes], notesState: 'ready', noteText: '', 'fresh.timeline': false })
        wx.showToast({ title: '备注已保存', icon: 'success' })
      } catch (err) {
        const known = /** @type {any} */ (err)
        this.setData({ noteError: form.fieldErrors(err).text || (known && known.message) || '保存失败，请重试' })
      } finally {
        this.setData({ noteBusy: false })
      }
    },
  },
})
