// @ts-check
/**
 * Ask for service (`?estate_id=&engineer_id=`, both optional): the service type (the types the
 * server accepts, community.orders.services.SERVICE_TYPES), a description, photos, the address
 * from my address book (GET /api/v1/me/addresses, the default preselected; only this estate's
 * when the page names one), the contact phone (the address's, else mine), a preferred time
 * (future only) and the engineer the page names. Once a type is chosen, my coupons usable for it
 * (GET /api/v1/me/coupons?service_type=) are offered to choose one (or none): its `coupon_id` goes
 * with the request and the server holds it for the order, or refuses it (used, held, expired, not
 * for this type), which shows under the coupons and reloads them. POST /api/v1/service-requests
 * carries an Idempotency-Key made once per form, so a double tap or a retry after a lost answer
 * makes one order. The server's 422 field errors show under their fields; success opens the order.
 */
const api = require('../../utils/api')
const form = require('../../utils/form')
const format = require('../../utils/format')
const reloadable = require('../../utils/reloadable')

/** The types POST /api/v1/service-requests accepts, with the server's labels. */
const SERVICE_TYPES = [
  { value: 'repair', label: '维修' },
  { value: 'install', label: '安装' },
  { value: 'maintenance', label: '保养' },
  { value: 'cleaning', label: '清洗' },
  { value: 'inspection', label: '检测' },
  { value: 'other', label: '其他' },
]
const MOBILE = /^1\d{10}$/
const BEIJING_OFFSET_MS = 8 * 3600 * 1000
/** How far ahead a preferred day may be (the engineer's visits are announced up to 60 days ahead). */
const DAYS_AHEAD = 60

/** Where each of the server's field errors shows on the form. */
const FIELD_OF = /** @type {Record<string, string>} */ ({
  service_type: 'service_type', description: 'description', photos: 'photos', address_id: 'address',
  address: 'address', estate_id: 'address', contact_phone: 'contact_phone', contact_name: 'contact_phone',
  preferred_slot: 'slot', preferred_engineer_id: 'engineer', coupon_id: 'coupon',
})
/** At most this many usable coupons are offered (the soonest to expire first). */
const COUPONS_SHOWN = 20

/**
 * A usable coupon as the form offers it.
 * @param {any} c the API's CouponSchema
 */
function couponChoice(c) {
  return { id: c.id, face: c.template.face, name: c.template.name, terms: c.template.terms.slice(0, -2).join(' · '),
    expires: `${format.date(c.expires_on)} 到期` }
}

/** @param {number} n */
const pad = (n) => (n < 10 ? `0${n}` : `${n}`)

/** A Beijing calendar day as "2026-12-04", `days` from today. @param {number} [days] */
function beijingDay(days = 0) {
  const at = new Date(Date.now() + BEIJING_OFFSET_MS + days * 86400000)
  return `${at.getUTCFullYear()}-${pad(at.getUTCMonth() + 1)}-${pad(at.getUTCDate())}`
}

/** The Beijing wall-clock time now, "09:30". */
function beijingClock() {
  const at = new Date(Date.now() + BEIJING_OFFSET_MS)
  return `${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}`
}

Component({
  behaviors: [reloadable],
  data: {
    state: 'loading',
    estateId: 0,
    engineerId: 0,
    /** @type {any} the named engineer (GET /api/v1/engineers/{id}) */
    engineer: null,
    types: SERVICE_TYPES,
    typeLabels: SERVICE_TYPES.map((t) => t.label),
    typeIndex: -1,
    description: '',
    /** @type {string[]} upload ids from the photo picker */
    photos: [],
    /** @type {any[]} my addresses (this estate's when the page names one) */
    addresses: [],
    addressId: 0,
    contactPhone: '',
    /** the phone was typed: choosing another address no longer replaces it */
    phoneEdited: false,
    /** @type {string | null} my own phone (GET /api/v1/me) */
    myPhone: null,
    date: '',
    time: '',
    today: '',
    lastDay: '',
    /** @type {ReturnType<typeof couponChoice>[]} my coupons usable for the chosen type */
    coupons: [],
    couponId: 0,
    /** the type the coupons shown are for */
    couponsFor: '',
    /** @type {Record<string, string>} form field → message */
    errors: {},
    sending: false,
    key: '',
    loaded: false,
  },
  methods: {
    /** @param {Record<string, string | undefined>} options */
    onLoad(options) {
      this.setData({
        estateId: Number(options.estate_id) || 0, engineerId: Number(options.engineer_id) || 0,
        key: api.newKey(), today: beijingDay(), lastDay: beijingDay(DAYS_AHEAD),
      })
      this.load()
    },

    /** Back from adding an address: read the book again (and pick the new address). */
    onShow() {
      if (this.data.loaded) this.refreshAddresses()
    },

    async load() {
      try {
        const app = getApp()
        const [book, engineer, me] = await Promise.all([
          api.request('/api/v1/me/addresses'),
          this.data.engineerId ? api.request(`/api/v1/engineers/${this.data.engineerId}`) : Promise.resolve(null),
          app.globalData.me ? Promise.resolve(app.globalData.me) : api.request('/api/v1/me'),
        ])
        app.globalData.me = me
        this.setData({ engineer, myPhone: me.phone || null })
        this.showAddresses(book.items)
        this.setData({ state: 'ready', loaded: true })
      } catch (err) {
        this.setData({ state: 'error' })
      }
    },

    async refreshAddresses() {
      try {
        const book = await api.request('/api/v1/me/addresses')
        this.showAddresses(book.items)
      } catch (err) {
        api.showError(err)
      }
    },

    /**
     * Show the book (this estate's addresses when the page names one) and choose: a newly added
     * address, else the one chosen before, else the default, else the first.
     * @param {any[]} items
     */
    showAddresses(items) {
      const estateId = this.data.estateId
      const addresses = estateId ? items.filter((a) => a.estate.id === estateId) : items
      const before = this.data.addresses.map((a) => a.id)
      const added = this.data.loaded ? addresses.find((a) => !before.includes(a.id)) : null
      const kept = addresses.find((a) => a.id === this.data.addressId)
      const chosen = added || kept || addresses.find((a) => a.is_default) || addresses[0] || null
      this.setData({ addresses })
      this.choose(chosen)
    },

    /** @param {any} address */
    choose(address) {
      /** @type {Record<string, any>} */
      const next = { addressId: address ? address.id : 0, 'errors.address': '' }
      if (!this.data.phoneEdited) next.contactPhone = (address && address.contact_phone) || this.data.myPhone || ''
      this.setData(next)
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onChooseAddress(e) {
      const id = Number(e.currentTarget.dataset.id)
      this.choose(this.data.addresses.find((a) => a.id === id))
    },

    onAddAddress() {
      const where = this.data.estateId ? `?estate_id=${this.data.estateId}` : ''
      wx.navigateTo({ url: `/pages/address/index${where}` })
    },

    /** @param {WechatMiniprogram.PickerChange} e */
    onType(e) {
      this.setData({ typeIndex: Number(e.detail.value), 'errors.service_type': '' })
      this.loadCoupons()
    },

    /** My coupons usable now for the chosen type; the one chosen stays chosen when it still is. */
    async loadCoupons() {
      const type = this.data.types[this.data.typeIndex].value
      try {
        const page = await api.request('/api/v1/me/coupons', { data: { status: 'available', service_type: type, limit: COUPONS_SHOWN } })
        if (type !== this.data.types[this.data.typeIndex].value) return // another type chosen meanwhile
        const coupons = page.items.filter((/** @type {any} */ c) => c.status === 'available' && c.usable_now).map(couponChoice)
        const couponId = coupons.some((c) => c.id === this.data.couponId) ? this.data.couponId : 0
        this.setData({ coupons, couponId, couponsFor: type })
      } catch (err) {
        this.setData({ coupons: [], couponId: 0, couponsFor: '' }) // the request goes without a coupon
      }
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onChooseCoupon(e) {
      this.setData({ couponId: Number(e.currentTarget.dataset.id) || 0, 'errors.coupon': '' })
    },

    /** @param {WechatMiniprogram.Input} e */
    onDescription(e) {
      this.setData({ description: e.detail.value, 'errors.description': '' })
    },

    /** @param {WechatMiniprogram.CustomEvent<{ ids: string[] }>} e */
    onPhotos(e) {
      this.setData({ photos: e.detail.ids, 'errors.photos': '' })
    },

    /** @param {WechatMiniprogram.Input} e */
    onPhone(e) {
      this.setData({ contactPhone: e.detail.value, phoneEdited: true, 'errors.contact_phone': '' })
    },

    /** @param {WechatMiniprogram.PickerChange} e */
    onDate(e) {
      this.setData({ date: String(e.detail.value), 'errors.slot': '' })
    },

    /** @param {WechatMiniprogram.PickerChange} e */
    onTime(e) {
      this.setData({ time: String(e.detail.value), 'errors.slot': '' })
    },

    onClearTime() {
      this.setData({ date: '', time: '', 'errors.slot': '' })
    },

    /** The form's own checks (the server checks again). @returns {Record<string, string>} */
    check() {
      const d = this.data
      /** @type {Record<string, string>} */
      const errors = {}
      if (d.typeIndex < 0) errors.service_type = '请选择服务类型'
      if (!d.addressId) errors.address = d.addresses.length ? '请选择服务地址' : '请先新增一个服务地址'
      const phone = d.contactPhone.replace(/[\s-]/g, '')
      if (phone && !MOBILE.test(phone)) errors.contact_phone = '请填写 11 位手机号'
      if (d.time && !d.date) errors.slot = '请先选择日期'
      else if (d.date && (d.date < d.today || (d.date === d.today && d.time && d.time <= beijingClock()))) {
        errors.slot = '期望时间须晚于现在'
      }
      return errors
    },

    async onSubmit() {
      if (this.data.sending) return
      const errors = this.check()
      this.setData({ errors })
      if (Object.keys(errors).length) return
      const d = this.data
      const address = d.addresses.find((a) => a.id === d.addressId)
      /** @type {Record<string, any>} */
      const body = {
        estate_id: address.estate.id, service_type: d.types[d.typeIndex].value, description: d.description.trim(),
        address_id: d.addressId, photos: d.photos,
      }
      const phone = d.contactPhone.replace(/[\s-]/g, '')
      if (phone) body.contact_phone = phone
      if (d.date) body.preferred_slot = d.time ? `${d.date} ${d.time}` : d.date
      if (d.engineer) body.preferred_engineer_id = d.engineer.id
      if (d.couponId) body.coupon_id = d.couponId
      this.setData({ sending: true })
      try {
        const order = await api.request('/api/v1/service-requests', { method: 'POST', data: body, header: { 'Idempotency-Key': d.key } })
        wx.redirectTo({ url: `/pages/order/index?id=${order.id}&created=1` })
      } catch (err) {
        this.failed(err)
      } finally {
        this.setData({ sending: false })
      }
    },

    /** @param {unknown} err */
    failed(err) {
      if (err instanceof api.ApiError && err.code === 'idempotency_key_reused') {
        // this form was sent before, the answer got lost, and it was changed since: the first one counts
        wx.showModal({
          title: '申请已提交', content: '您刚才的服务申请已提交成功，可在“我的服务单”中查看。', showCancel: false,
          success: () => wx.redirectTo({ url: '/pages/orders/index' }),
        })
        return
      }
      /** @type {Record<string, string>} */
      const errors = {}
      for (const [name, message] of Object.entries(form.fieldErrors(err))) errors[FIELD_OF[name] || 'form'] = message
      // the coupon refused (used, held by another order, expired, not yet valid): said under the coupons
      if (err instanceof api.ApiError && /^coupon_/.test(err.code)) errors.coupon = err.message
      if (Object.keys(errors).length) this.setData({ errors })
      if (!Object.keys(errors).length || errors.form) api.showError(err)
      if (errors.coupon) {
        this.setData({ couponId: 0 })
        this.loadCoupons()
      }
    },
  },
})
