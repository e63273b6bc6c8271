// @ts-check
/**
 * One address of the book: new (no id) or `?id=` to edit. The estate is picked among the estates
 * I live in (GET /api/v1/me/estates) or found by name (GET /api/v1/estates?q=); then building,
 * unit, room, contact name and phone, and the default switch. The phone is checked lightly here,
 * the server decides (its 422 field errors show under each field). Save is POST (with an
 * Idempotency-Key, so a retried save after a lost answer does not add it twice) or PUT; an
 * edited address can be deleted. Saving in an estate makes me its resident (the server's rule).
 */
const api = require('../../utils/api')
const dialog = require('../../utils/dialog')
const form = require('../../utils/form')
const reloadable = require('../../utils/reloadable')

/** The form's text fields, as the API names them. */
const FIELDS = ['building', 'unit', 'room', 'contact_name', 'contact_phone']
const MOBILE = /^1\d{10}$/

/** @param {string} phone */
const cleanPhone = (phone) => phone.replace(/[\s-]/g, '')

Component({
  behaviors: [reloadable],
  data: {
    state: 'loading',
    id: 0,
    /** @type {{ id: number, name: string, city?: string, district?: string } | null} */
    estate: null,
    /** @type {{ id: number, name: string, city: string, district: string }[]} the estates I live in */
    myEstates: [],
    estateIndex: -1,
    /** the estate a new address starts in (`?estate_id=`, from the service request page) */
    forEstate: 0,
    query: '',
    /** @type {any[] | null} search results (null: no search yet) */
    results: null,
    searching: false,
    building: '',
    unit: '',
    room: '',
    contact_name: '',
    contact_phone: '',
    isDefault: false,
    /** the address was the default when opened: it cannot be unset, only replaced */
    wasDefault: false,
    /** @type {Record<string, string>} field → message */
    errors: {},
    saving: false,
    deleting: false,
    /** the Idempotency-Key of this form's content (a change makes a new one) */
    key: '',
  },
  methods: {
    /** @param {Record<string, string | undefined>} options */
    onLoad(options) {
      const id = Number(options.id) || 0
      // a new address from the service request page starts in the request's estate
      this.setData({ id, forEstate: Number(options.estate_id) || 0 })
      wx.setNavigationBarTitle({ title: id ? '编辑地址' : '新增地址' })
      this.load()
    },

    async load() {
      try {
        const known = getApp().globalData.me
        const [mine, book, me] = await Promise.all([
          api.request('/api/v1/me/estates'),
          this.data.id ? api.request('/api/v1/me/addresses') : Promise.resolve(null),
          // a new address starts with my confirmed phone as the contact (the 我的 tab may have loaded me)
          this.data.id || known ? Promise.resolve(known) : api.request('/api/v1/me').catch(() => null),
        ])
        const myEstates = mine.items.map((/** @type {any} */ r) => r.estate)
        /** @type {Record<string, any>} */
        const next = { myEstates, state: 'ready' }
        if (book) {
          const address = book.items.find((/** @type {any} */ a) => a.id === this.data.id)
          if (!address) {
            this.setData({ state: 'missing' })
            return
          }
          Object.assign(next, {
            estate: address.estate, building: address.building, unit: address.unit, room: address.room,
            contact_name: address.contact_name, contact_phone: address.contact_phone,
            isDefault: address.is_default, wasDefault: address.is_default,
          })
        } else {
          if (me && me.phone_confirmed && MOBILE.test(me.phone || '')) next.contact_phone = me.phone
          next.estate = myEstates.find((/** @type {any} */ e) => e.id === this.data.forEstate)
            || (myEstates.length === 1 ? myEstates[0] : null)
        }
        const estateId = next.estate ? next.estate.id : 0
        next.estateIndex = myEstates.findIndex((/** @type {any} */ e) => e.id === estateId)
        this.setData(next)
      } catch (err) {
        this.setData({ state: 'error' })
      }
    },

    /** Something in the form changed: a new save is a new request. @param {Record<string, any>} values */
    change(values) {
      const errors = { ...this.data.errors }
      for (const name of Object.keys(values)) delete errors[name === 'estate' ? 'estate_id' : name]
      this.setData({ ...values, errors, key: '' })
    },

    /** @param {WechatMiniprogram.Input} e */
    onInput(e) {
      const name = String(e.currentTarget.dataset.field)
      if (FIELDS.includes(name)) this.change({ [name]: e.detail.value })
    },

    /** The picker among my estates. @param {WechatMiniprogram.PickerChange} e */
    onPickEstate(e) {
      const index = Number(e.detail.value)
      const estate = this.data.myEstates[index]
      if (estate) this.change({ estate, estateIndex: index })
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
        const page = await api.request('/api/v1/estates', { data: { q, limit: 20 } })
        this.setData({ results: page.items })
      } catch (err) {
        api.showError(err)
      } finally {
        this.setData({ searching: false })
      }
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onPickResult(e) {
      const found = (this.data.results || [])[Number(e.currentTarget.dataset.index)]
      if (!found) return
      const estate = { id: found.id, name: found.name, city: found.city, district: found.district }
      this.change({ estate, estateIndex: this.data.myEstates.findIndex((m) => m.id === found.id), results: null, query: '' })
    },

    /** @param {WechatMiniprogram.SwitchChange} e */
    onDefault(e) {
      this.change({ isDefault: Boolean(e.detail.value) })
    },

    /** The light checks; the server's are the ones that count. @returns {Record<string, string>} */
    check() {
      /** @type {Record<string, string>} */
      const errors = {}
      if (!this.data.estate) errors.estate_id = '请选择小区'
      if (!this.data.building.trim()) errors.building = '请填写楼栋'
      if (!this.data.contact_name.trim()) errors.contact_name = '请填写联系人'
      if (!MOBILE.test(cleanPhone(this.data.contact_phone))) errors.contact_phone = '请填写 11 位手机号码'
      return errors
    },

    async onSave() {
      if (this.data.saving) return
      const errors = this.check()
      if (Object.keys(errors).length) {
        this.setData({ errors })
        return
      }
      const d = this.data
      const body = {
        estate_id: /** @type {any} */ (d.estate).id, building: d.building.trim(), unit: d.unit.trim(), room: d.room.trim(),
        contact_name: d.contact_name.trim(), contact_phone: cleanPhone(d.contact_phone), is_default: d.isDefault,
      }
      const key = d.key || api.newKey()
      this.setData({ saving: true, key, errors: {} })
      try {
        if (d.id) await api.request(`/api/v1/me/addresses/${d.id}`, { method: 'PUT', data: body })
        else await api.request('/api/v1/me/addresses', { method: 'POST', data: body, header: { 'Idempotency-Key': key } })
        wx.showToast({ title: '地址已保存', icon: 'success' })
        wx.navigateBack()
      } catch (err) {
        const inline = form.fieldErrors(err)
        if (Object.keys(inline).length) this.setData({ errors: inline })
        else api.showError(err)
      } finally {
        this.setData({ saving: false })
      }
    },

    async onDelete() {
      if (!this.data.id || this.data.deleting) return
      const confirmed = await dialog.confirm({ title: '删除地址', content: '确定删除这个地址吗？', confirmText: '删除', confirmColor: '#c0392b' })
      if (!confirmed) return
      this.setData({ deleting: true })
      try {
        await api.request(`/api/v1/me/addresses/${this.data.id}`, { method: 'DELETE' })
        wx.showToast({ title: '地址已删除', icon: 'none' })
        wx.navigateBack()
      } catch (err) {
        api.showError(err)
      } finally {
        this.setData({ deleting: false })
      }
    },

    onBack() {
      wx.navigateBack()
    },
  },
})
