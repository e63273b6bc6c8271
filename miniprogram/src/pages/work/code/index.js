// @ts-check
/**
 * My binding code, full screen, for the resident to scan at a visit: minted for one of my estates
 * (POST /api/v1/engineer/binding-codes, an Idempotency-Key per tap; the estate I chose last time
 * is remembered, a picker when I serve several), its image (GET /api/v1/binding-codes/{scene}/image:
 * public, the scene is the capability, so a plain <image src> shows it), a countdown to its expiry
 * ticking every second while the page is shown, a refresh button and a fresh code by itself when
 * it expires, and how many households may still bind with it (`uses_left`). The screen stays on
 * and bright while the code is shown, and is given back on leaving.
 */
const api = require('../../../utils/api')
const format = require('../../../utils/format')
const shared = require('../shared')

/** Brightness while the code is shown (0–1): cameras read a bright code better. */
const BRIGHT = 1

Component({
  data: {
    /** loading | choose (pick an estate) | minting | ready | failed | error (profile) | none (no estate) */
    state: 'loading',
    /** @type {{ id: number, name: string, district: string }[]} */
    estates: [],
    /** @type {number | null} */
    estateId: null,
    estateName: '',
    /** @type {any} the API's binding code */
    code: null,
    image: '',
    imageFailed: false,
    countdown: '',
    expired: false,
    refreshing: false,
    /** the scene already refreshed by itself once (no loop when minting keeps failing) */
    autoRefreshed: '',
    errorMessage: '',
  },
  methods: {
    /** @param {Record<string, string | undefined>} options `estate_id` to show that estate's code */
    onLoad(options) {
      this.load(Number(options.estate_id || 0) || null)
    },

    onShow() {
      this.brighten()
      if (this.data.code) {
        this.tick()
        this.startTicking()
      }
    },

    onHide() {
      this.stopTicking()
      this.dim()
    },

    onUnload() {
      this.stopTicking()
      this.dim()
    },

    /** @param {number | null} wanted */
    async load(wanted) {
      this.setData({ state: 'loading' })
      /** @type {any} */
      let engineer
      try {
        engineer = await api.request('/api/v1/engineer/me')
      } catch (err) {
        this.setData({ state: 'error', errorMessage: /** @type {any} */ (err).message || '加载失败' })
        return
      }
      const estates = engineer.estates
      if (!estates.length) {
        this.setData({ state: 'none', estates })
        return
      }
      const estateId = wanted && estates.some((/** @type {any} */ e) => e.id === wanted) ? wanted : shared.rememberedEstate(estates)
      this.setData({ estates })
      if (estateId) this.choose(estateId)
      else this.setData({ state: 'choose' })
    },

    onRetry() {
      this.load(this.data.estateId)
    },

    /** @param {number} estateId */
    choose(estateId) {
      shared.rememberEstate(estateId)
      const estate = this.data.estates.find((e) => e.id === estateId)
      this.setData({ estateId, estateName: estate ? estate.name : '', code: null, state: 'minting' })
      this.stopTicking()
      this.mint()
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onPick(e) {
      this.choose(Number(e.currentTarget.dataset.id))
    },

    onSwitch() {
      this.stopTicking()
      this.setData({ state: 'choose', code: null })
    },

    onRefresh() {
      this.mint()
    },

    async mint() {
      if (this.data.refreshing || !this.data.estateId) return
      this.setData({ refreshing: true })
      try {
        const code = await api.request('/api/v1/engineer/binding-codes', {
          method: 'POST', data: { estate_id: this.data.estateId }, header: { 'Idempotency-Key': api.newKey() } })
        this.setData({
          state: 'ready', code, estateName: code.estate.name, imageFailed: false,
          image: api.mediaUrl(`/api/v1/binding-codes/${encodeURIComponent(code.scene)}/image`),
        })
        this.tick()
        this.startTicking()
      } catch (err) {
        if (this.data.code) api.showError(err) // the old code stays, marked expired when it is
        else this.setData({ state: 'failed', errorMessage: /** @type {any} */ (err).message || '生成失败，请重试' })
      } finally {
        this.setData({ refreshing: false })
      }
    },

    /** Once a second: the time left; an expired code is replaced once by itself. */
    tick() {
      const code = this.data.code
      if (!code) return
      const left = Math.floor((Date.parse(code.expires_at) - Date.now()) / 1000)
      if (left > 0) {
        this.setData({ countdown: format.countdown(left), expired: false })
        return
      }
      this.setData({ countdown: format.countdown(0), expired: true })
      if (!this.data.refreshing && this.data.autoRefreshed !== code.scene) {
        this.setData({ autoRefreshed: code.scene })
        this.mint()
      }
    },

    startTicking() {
      const self = /** @type {any} */ (this)
      if (!self.timer) self.timer = setInterval(() => this.tick(), 1000)
    },

    stopTicking() {
      const self = /** @type {any} */ (this)
      if (self.timer) clearInterval(self.timer)
      self.timer = null
    },

    /** Keep the screen on and bright while the code is shown, remembering the brightness to give back. */
    brighten() {
      const self = /** @type {any} */ (this)
      wx.setKeepScreenOn({ keepScreenOn: true })
      wx.getScreenBrightness({
        success: (res) => {
          if (self.brightness == null) self.brightness = res.value
          wx.setScreenBrightness({ value: BRIGHT })
        },
        fail: () => wx.setScreenBrightness({ value: BRIGHT }),
      })
    },

    dim() {
      const self = /** @type {any} */ (this)
      wx.setKeepScreenOn({ keepScreenOn: false })
      if (self.brightness != null && self.brightness >= 0) wx.setScreenBrightness({ value: self.brightness })
      self.brightness = null
    },

    onImageError() {
      this.setData({ imageFailed: true })
    },

    onReloadImage() {
      const code = this.data.code
      if (code) this.setData({ imageFailed: false, image: api.mediaUrl(`/api/v1/binding-codes/${encodeURIComponent(code.scene)}/image?retry=${Date.now()}`) })
    },
  },
})
