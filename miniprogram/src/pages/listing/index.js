// @ts-check
/**
 * A partner's service or announcement (`?id=`, from the estate's 优惠活动): photos, title, price,
 * the partner, the description (GET /api/v1/partner-listings/{id}: only while it is offered in an
 * estate of mine). What to do depends on its sign-up mode: `platform` — 报名 with a contact phone
 * (my phone prefilled) and a note (POST …/leads, Idempotency-Key; once per person, then 已报名);
 * `link` — the partner's web page, which a mini-program cannot open: 复制链接 copies it and says to
 * open it in a browser; `none` — nothing to do (an announcement).
 */
const api = require('../../utils/api')
const form = require('../../utils/form')
const format = require('../../utils/format')
const reloadable = require('../../utils/reloadable')

const MOBILE = /^1\d{10}$/
const LEAD_STATUS = { new: '已报名，商家会尽快联系您', contacted: '商家已联系您', closed: '已完成' }

/**
 * The listing as the page shows it.
 * @param {any} l the API's ResidentListingSchema
 */
function show(l) {
  return {
    id: l.id,
    kind: l.kind,
    title: l.title,
    body: l.body || '',
    photos: (l.photos || []).map((/** @type {string} */ p) => api.mediaUrl(p)),
    price: l.kind === 'service' ? (l.price_fen == null ? '价格面议' : `${format.yuan(l.price_fen)}${l.price_note || ''}`) : '',
    partner: l.partner ? l.partner.name : '',
    partnerCategory: l.partner ? l.partner.category : '',
    mode: l.signup_mode,
    link: l.link_url || '',
    lead: l.my_lead ? LEAD_STATUS[/** @type {keyof typeof LEAD_STATUS} */ (l.my_lead.status)] || '已报名' : '',
  }
}

Component({
  behaviors: [reloadable],
  data: {
    state: 'loading',
    errorMessage: '',
    id: 0,
    /** @type {ReturnType<typeof show> | null} */
    listing: null,
    phone: '',
    note: '',
    /** @type {Record<string, string>} */
    errors: {},
    sending: false,
    key: '',
  },
  methods: {
    /** @param {Record<string, string | undefined>} options */
    onLoad(options) {
      this.setData({ id: Number(options.id) || 0 })
      this.load()
    },

    async load() {
      try {
        const app = getApp()
        const [listing, me] = await Promise.all([
          api.request(`/api/v1/partner-listings/${this.data.id}`),
          app.globalData.me ? Promise.resolve(app.globalData.me) : api.request('/api/v1/me'),
        ])
        app.globalData.me = me
        const shown = show(listing)
        this.setData({ listing: shown, state: 'ready', phone: this.data.phone || me.phone || '' })
        wx.setNavigationBarTitle({ title: shown.kind === 'service' ? '伙伴服务' : '伙伴公告' })
      } catch (err) {
        this.loadFailed(err, { errorMessage: err instanceof api.ApiError && err.status === 404 ? '该服务已下线或不在您的小区提供' : '没有加载到内容' })
      }
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onPhoto(e) {
      const photos = this.data.listing ? this.data.listing.photos : []
      wx.previewImage({ urls: photos, current: photos[Number(e.currentTarget.dataset.index)] })
    },

    /** @param {WechatMiniprogram.Input} e */
    onPhone(e) {
      this.setData({ phone: e.detail.value, 'errors.contact_phone': '' })
    },

    /** @param {WechatMiniprogram.Input} e */
    onNote(e) {
      this.setData({ note: e.detail.value, 'errors.note': '' })
    },

    /** 报名: my contact for the partner, once. */
    async onSignUp() {
      if (this.data.sending) return
      const phone = this.data.phone.replace(/[\s-]/g, '')
      if (!MOBILE.test(phone)) {
        this.setData({ errors: { contact_phone: '请填写 11 位手机号，商家会通过它联系您' } })
        return
      }
      this.setData({ sending: true, errors: {} })
      try {
        await form.sendWithKey(this, 'key', `/api/v1/partner-listings/${this.data.id}/leads`,
          { method: 'POST', data: { contact_phone: phone, note: this.data.note.trim() } })
        wx.showToast({ title: '报名成功', icon: 'success' })
        await this.load()
      } catch (err) {
        const errors = form.fieldErrors(err)
        if (Object.keys(errors).length) this.setData({ errors })
        else api.showError(err)
        if (err instanceof api.ApiError && err.code === 'already_signed_up') await this.load()
      } finally {
        this.setData({ sending: false })
      }
    },

    /** 复制链接: a mini-program cannot open an outside web page; the resident opens it in a browser. */
    onCopyLink() {
      const link = this.data.listing ? this.data.listing.link : ''
      if (!link) return
      wx.setClipboardData({
        data: link,
        success: () => wx.showModal({ title: '链接已复制', showCancel: false, confirmText: '知道了',
          content: '小程序内无法直接打开外部网页，请粘贴到手机浏览器中打开。' }),
      })
    },
  },
})
