// @ts-check
/**
 * One of my appliances (`?id=`: GET /api/v1/me/products/{id}, with every maintenance plan that
 * applies and when each is due), or the form that adds one (no id). Adding: the model picked by
 * category then model (GET /api/v1/product-models?category=) or found by the nameplate's code
 * (`?q=`), the serial typed or scanned (wx.scanCode), the install and purchase dates, the place
 * from my address book; POST /api/v1/me/products with an Idempotency-Key. A serial on record for
 * another household is not moved: the server flags it for an agent and says so (409), shown under
 * the serial. The model and serial are the product's identity: editing corrects only the dates and
 * the place (POST /api/v1/me/products/{id}). 停用 (POST …/retire) keeps it on record, with no more care.
 */
const api = require('../../utils/api')
const dialog = require('../../utils/dialog')
const form = require('../../utils/form')
const format = require('../../utils/format')
const reloadable = require('../../utils/reloadable')

/** The catalogue's categories (community/products/models.py CATEGORIES), in the order residents think of them. */
const CATEGORIES = [
  { value: 'water_purifier', label: '净水器' }, { value: 'air_conditioner', label: '空调' },
  { value: 'water_heater', label: '热水器' }, { value: 'range_hood', label: '油烟机' },
  { value: 'gas_stove', label: '燃气灶' }, { value: 'dishwasher', label: '洗碗机' },
  { value: 'washing_machine', label: '洗衣机' }, { value: 'refrigerator', label: '冰箱' },
  { value: 'wall_boiler', label: '壁挂炉' }, { value: 'fresh_air', label: '新风系统' }, { value: 'other', label: '其他' },
]
const TITLES = { view: '家电详情', new: '添加家电', edit: '修改家电信息' }
/** The server's field of a refusal → the form's field it is shown under. */
const FIELD_OF = { model_code: 'model_id', estate_id: 'address_id', address: 'address_id' }
const DAY_MS = 24 * 3600 * 1000

/**
 * A catalogue model as the pickers show it.
 * @param {any} m the ProductModelSchema shape
 */
function model(m) {
  return { id: m.id, code: m.code, name: m.name, category: m.category, categoryLabel: m.category_label,
    label: m.name.toUpperCase().includes(m.code) ? m.name : `${m.name}（${m.code}）` }
}

/**
 * Days from today (Beijing) to a calendar day.
 * @param {string} isoDate
 */
function daysUntil(isoDate) {
  return Math.round((Date.parse(`${isoDate}T00:00:00Z`) - Date.parse(`${format.beijing().date}T00:00:00Z`)) / DAY_MS)
}

/**
 * A product as the detail shows it.
 * @param {any} p the ProductDetailSchema shape (ProductSchema after a write: no schedules)
 */
function detail(p) {
  const active = p.status === 'active'
  return {
    id: p.id,
    active,
    statusText: active ? '' : (p.status_label || '已停用'),
    name: p.model.name,
    code: p.model.code,
    category: p.model.category_label,
    image: api.mediaUrl(p.model.image_url),
    initial: (p.model.category_label || p.model.name || '?').slice(0, 1),
    serial: p.serial,
    installDate: p.install_date || '',
    purchaseDate: p.purchase_date || '',
    installed: format.date(p.install_date),
    purchased: format.date(p.purchase_date),
    warrantyText: p.warranty_end ? (p.in_warranty ? '保修中' : '已过保') : '',
    warrantyBadge: p.in_warranty ? '' : 'muted',
    warranty: !p.warranty_end ? '未填写购买或安装日期，无法计算保修期'
      : p.in_warranty ? `至 ${format.date(p.warranty_end)}（还剩 ${p.warranty_days_left} 天）`
        : `已于 ${format.date(p.warranty_end)} 过保`,
    addressId: p.address_id || 0,
    place: p.address || p.estate_name || '',
    installer: p.installer ? p.installer.name : '',
    source: p.source_label || '',
    schedules: (p.schedules || []).map((/** @type {any} */ s) => {
      const days = s.next_due_on ? daysUntil(s.next_due_on) : null
      return {
        id: s.plan_id,
        name: s.plan_name,
        type: s.service_type_label,
        description: s.description || '',
        next: s.next_due_on ? format.day(s.next_due_on) : '',
        due: days === null ? '' : format.dueIn(days),
        badge: days === null ? 'muted' : days < 0 ? 'danger' : days <= 30 ? 'warn' : 'muted',
        last: format.date(s.last_done_on),
      }
    }),
  }
}

Component({
  behaviors: [reloadable],
  data: {
    state: 'loading',
    /** view | new | edit */
    mode: 'new',
    id: 0,
    /** @type {ReturnType<typeof detail> | null} */
    product: null,
    categories: CATEGORIES,
    categoryIndex: -1,
    /** @type {ReturnType<typeof model>[]} the chosen category's models */
    models: [],
    /** idle | loading | ready | empty | error */
    modelsState: 'idle',
    modelIndex: -1,
    /** @type {ReturnType<typeof model> | null} */
    model: null,
    query: '',
    /** @type {ReturnType<typeof model>[] | null} search results (null: no search yet) */
    results: null,
    searching: false,
    serial: '',
    installDate: '',
    purchaseDate: '',
    today: format.beijing().date,
    /** @type {any[]} my address book */
    addresses: [],
    addressIndex: -1,
    /** the place written on the product when it is not one of my addresses (edit) */
    placeText: '',
    addressChanged: false,
    /** @type {Record<string, string>} field → message */
    errors: {},
    /** the server's refusal of a serial on record for another household */
    conflict: '',
    saving: false,
    retiring: false,
    /** the Idempotency-Key of this form's content (a change makes a new one) */
    key: '',
  },
  methods: {
    /** @param {Record<string, string | undefined>} options */
    onLoad(options) {
      const id = Number(options.id) || 0
      this.setMode(id ? 'view' : 'new', { id })
      this.load()
    },

    /** Back from adding an address: the book may have one now. */
    onShow() {
      if (this.data.state === 'ready' && this.data.mode !== 'view' && !this.data.addresses.length) this.loadAddresses()
    },

    /** @param {'view' | 'new' | 'edit'} mode @param {Record<string, any>} [more] */
    setMode(mode, more = {}) {
      this.setData({ mode, ...more })
      wx.setNavigationBarTitle({ title: TITLES[mode] })
    },

    async load() {
      try {
        if (this.data.mode === 'new') {
          await this.loadAddresses()
        } else {
          const product = detail(await api.request(`/api/v1/me/products/${this.data.id}`))
          this.setData({ product })
        }
        this.setData({ state: 'ready' })
      } catch (err) {
        if (err instanceof api.ApiError && err.status === 404) this.setData({ state: 'missing' })
        else this.loadFailed(err)
      }
    },

    /** My address book; a new product starts at my default address, an edited one at its own. */
    async loadAddresses() {
      const book = await api.request('/api/v1/me/addresses')
      const addresses = book.items
      const d = this.data
      const wanted = d.mode === 'edit' ? (d.product ? d.product.addressId : 0)
        : (addresses.find((/** @type {any} */ a) => a.is_default) || addresses[0] || { id: 0 }).id
      this.setData({ addresses, addressIndex: addresses.findIndex((/** @type {any} */ a) => a.id === wanted) })
    },

    /** Something in the form changed: a new save is a new request. @param {Record<string, any>} values @param {string[]} fields */
    change(values, fields) {
      const errors = { ...this.data.errors }
      for (const name of fields) delete errors[name]
      this.setData({ ...values, errors, key: '', ...(fields.includes('serial') || fields.includes('model_id') ? { conflict: '' } : {}) })
    },

    /** @param {WechatMiniprogram.PickerChange} e */
    async onPickCategory(e) {
      const categoryIndex = Number(e.detail.value)
      const category = CATEGORIES[categoryIndex]
      if (!category || categoryIndex === this.data.categoryIndex) return
      this.change({ categoryIndex, models: [], modelIndex: -1, model: null, modelsState: 'loading' }, ['model_id'])
      try {
        const page = await api.request('/api/v1/product-models', { data: { category: category.value, limit: 100 } })
        if (this.data.categoryIndex !== categoryIndex) return
        const models = page.items.map(model)
        this.setData({ models, modelsState: models.length ? 'ready' : 'empty' })
      } catch (err) {
        if (this.data.categoryIndex !== categoryIndex) return
        this.setData({ modelsState: 'error' })
        api.showError(err)
      }
    },

    /** @param {WechatMiniprogram.PickerChange} e */
    onPickModel(e) {
      const modelIndex = Number(e.detail.value)
      const chosen = this.data.models[modelIndex]
      if (chosen) this.change({ modelIndex, model: chosen }, ['model_id'])
    },

    /** @param {WechatMiniprogram.Input} e */
    onQuery(e) {
      this.setData({ query: e.detail.value })
    },

    async onSearch() {
      const q = this.data.query.trim()
      if (!q || this.data.searching) return
      this.setData({ searching: true })
      try {
        const page = await api.request('/api/v1/product-models', { data: { q, limit: 20 } })
        this.setData({ results: page.items.map(model) })
      } catch (err) {
        api.showError(err)
      } finally {
        this.setData({ searching: false })
      }
    },

    /** A search result: the model, its category shown in the category picker. @param {WechatMiniprogram.TouchEvent} e */
    onPickResult(e) {
      const chosen = (this.data.results || [])[Number(e.currentTarget.dataset.index)]
      if (!chosen) return
      this.change({
        model: chosen, categoryIndex: CATEGORIES.findIndex((c) => c.value === chosen.category),
        models: [chosen], modelIndex: 0, modelsState: 'ready', results: null, query: '',
      }, ['model_id'])
    },

    /** @param {WechatMiniprogram.Input} e */
    onSerial(e) {
      this.change({ serial: e.detail.value }, ['serial'])
    },

    /** The nameplate's bar code or QR code fills the serial. */
    onScan() {
      wx.scanCode({
        scanType: ['barCode', 'qrCode'],
        success: (res) => {
          const serial = String(res.result || '').trim()
          if (serial) this.change({ serial }, ['serial'])
        },
      })
    },

    /** @param {WechatMiniprogram.PickerChange} e */
    onInstallDate(e) {
      this.change({ installDate: String(e.detail.value) }, ['install_date'])
    },

    /** @param {WechatMiniprogram.PickerChange} e */
    onPurchaseDate(e) {
      this.change({ purchaseDate: String(e.detail.value) }, ['purchase_date'])
    },

    /** @param {WechatMiniprogram.PickerChange} e */
    onPickAddress(e) {
      const addressIndex = Number(e.detail.value)
      if (this.data.addresses[addressIndex]) this.change({ addressIndex, addressChanged: true }, ['address_id'])
    },

    onAddAddress() {
      wx.navigateTo({ url: '/pages/address/index' })
    },

    /** The light checks of a new product; the server's are the ones that count. @returns {Record<string, string>} */
    check() {
      /** @type {Record<string, string>} */
      const errors = {}
      if (!this.data.model) errors.model_id = '请选择型号'
      if (!this.data.serial.trim()) errors.serial = '请填写或扫描序列号'
      return errors
    },

    async onSubmit() {
      const d = this.data
      if (d.saving) return
      const errors = d.mode === 'new' ? this.check() : {}
      if (Object.keys(errors).length) {
        this.setData({ errors })
        return
      }
      const address = d.addresses[d.addressIndex]
      /** @type {Record<string, any>} */
      const body = { install_date: d.installDate || null, purchase_date: d.purchaseDate || null }
      if (d.mode === 'new') {
        Object.assign(body, { model_id: /** @type {any} */ (d.model).id, serial: d.serial.trim(), address_id: address ? address.id : null })
      } else if (d.addressChanged && address) {
        body.address_id = address.id
      }
      this.setData({ saving: true, errors: {}, conflict: '' })
      try {
        const path = d.mode === 'new' ? '/api/v1/me/products' : `/api/v1/me/products/${d.id}`
        const saved = await form.sendWithKey(this, 'key', path, { method: 'POST', data: body })
        if (d.mode === 'new') {
          wx.showToast({ title: '家电已登记', icon: 'success' })
          wx.redirectTo({ url: `/pages/product/index?id=${saved.id}` })
        } else {
          wx.showToast({ title: '已保存', icon: 'success' })
          this.setMode('view')
          await this.load()
        }
      } catch (err) {
        this.refused(err)
      } finally {
        this.setData({ saving: false })
      }
    },

    /** A refused save: the serial's owner elsewhere under the serial, field errors under their fields, else a toast. @param {unknown} err */
    refused(err) {
      if (err instanceof api.ApiError && (err.code === 'serial_conflict' || err.code === 'serial_conflict_decided')) {
        this.setData({ conflict: err.message })
        return
      }
      /** @type {Record<string, string>} */
      const errors = {}
      for (const [field, message] of Object.entries(form.fieldErrors(err))) {
        const shown = FIELD_OF[/** @type {keyof typeof FIELD_OF} */ (field)] || field
        if (!errors[shown]) errors[shown] = message
      }
      if (Object.keys(errors).length) this.setData({ errors })
      else api.showError(err)
    },

    /** 修改: the form with the product's dates and place (the model and serial stay). */
    async onEdit() {
      const p = this.data.product
      if (!p || !p.active) return
      this.setMode('edit', { installDate: p.installDate, purchaseDate: p.purchaseDate, placeText: p.place,
        addressChanged: false, errors: {}, key: '', addresses: [], addressIndex: -1 })
      try {
        await this.loadAddresses()
      } catch (err) {
        api.showError(err)
      }
    },

    onCancelEdit() {
      this.setMode('view', { errors: {}, key: '' })
    },

    async onRetire() {
      const p = this.data.product
      if (!p || !p.active || this.data.retiring) return
      const confirmed = await dialog.confirm({
        title: '停用这台家电',
        content: `「${p.name}」已不再使用（已处理掉或搬走）？停用后不再提醒保养，记录会保留。`,
        confirmText: '停用',
        confirmColor: '#c0392b',
      })
      if (!confirmed) return
      this.setData({ retiring: true })
      try {
        const retired = await api.request(`/api/v1/me/products/${p.id}/retire`, { method: 'POST' })
        this.setData({ product: detail(retired) })
        wx.showToast({ title: '已停用', icon: 'none' })
      } catch (err) {
        api.showError(err)
      } finally {
        this.setData({ retiring: false })
      }
    },

    onCare() {
      wx.navigateTo({ url: '/pages/care/index' })
    },

    onBack() {
      wx.navigateBack()
    },
  },
})
