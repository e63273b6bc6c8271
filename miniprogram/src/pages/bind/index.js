// @ts-check
/**
 * The page a binding code opens (the server's WECHAT_BIND_PAGE). With the decoded scene it calls
 * wx.login and POST /api/v1/bindings at once: the resident is bound with zero typing, and the
 * steward's card comes in that one answer. Then an optional rating (the same call again, with a
 * fresh code: the server keeps the first rating) and, on a tap, the subscribe prompt.
 */
const api = require('../../utils/api')
const subscribe = require('../../utils/subscribe')

/** What to do next, by the server's refusal code (the server's message is the title). */
const HINTS = {
  binding_code_invalid: '请让工程师在邻里工作台重新出示绑定码，再用微信扫一扫。',
  binding_code_expired: '绑定码只在上门期间有效，请让工程师刷新后再扫。',
  binding_code_used_up: '一个绑定码只能绑定一户家庭，请让工程师刷新后再扫。',
  binding_code_revoked: '这位工程师已不再负责该小区，请联系客服或等待新的管家。',
  self_binding: '请用住户本人的微信扫码。',
}
const HEADLINES = {
  created: ['绑定成功', '以后家里的服务找他就行'],
  unchanged: ['您已是他的客户', '管家关系不变'],
  switched: ['已更换管家', '新的管家会为您服务'],
  kept: ['已加入小区', '您最近服务过的管家仍为您服务'],
}

/**
 * What the thanks line says of the points: binding points wait until the household shows it is
 * real (an order, a product registered, another day in the app, a confirmed phone), so a pending
 * grant says when it arrives instead of "获得".
 * @param {{ granted?: number, pending?: boolean } | undefined} points
 */
function pointsText(points) {
  if (!points || !points.granted) return ''
  if (points.pending) return `，${points.granted} 积分待到账（完成一次服务、登记家电或改天再来看看后发放）`
  return `，获得 ${points.granted} 积分`
}

Component({
  data: {
    state: 'binding',
    scene: '',
    /** @type {{ title: string, hint: string, retry: boolean } | null} */
    error: null,
    /** @type {any} */
    steward: null,
    /** @type {any} */
    estate: {},
    headline: '',
    subline: '',
    rating: 0,
    comment: '',
    rated: false,
    sending: false,
    pointsText: '',
    subscribed: false,
  },
  methods: {
    /** @param {Record<string, string | undefined>} options */
    onLoad(options) {
      const scene = decodeURIComponent(options.scene || '')
      if (!scene) {
        this.setData({ state: 'error', error: { title: '没有读到绑定码', hint: '请用微信扫一扫工程师出示的二维码。', retry: false } })
        return
      }
      this.setData({ scene })
      this.bind()
    },

    async bind() {
      this.setData({ state: 'binding', error: null })
      try {
        this.show(await api.bind(this.data.scene))
      } catch (err) {
        this.fail(err)
      }
    },

    /** @param {any} outcome the binding answer */
    show(outcome) {
      const [headline, subline] = HEADLINES[/** @type {keyof typeof HEADLINES} */ (outcome.result)] || HEADLINES.created
      getApp().globalData.estateId = outcome.estate.id
      this.setData({
        state: 'bound', steward: outcome.steward, estate: outcome.estate,
        headline, subline: `${outcome.estate.name} · ${subline}`,
        rated: outcome.visit && outcome.visit.rating != null,
      })
    },

    /** @param {unknown} err */
    fail(err) {
      const known = err instanceof api.ApiError ? err : new api.ApiError(0, 'unknown', '出错了，请重试')
      const hint = HINTS[/** @type {keyof typeof HINTS} */ (known.code)]
      this.setData({
        state: 'error',
        error: { title: known.message, hint: hint || '请检查网络后重试。', retry: !hint },
      })
    },

    onRetry() {
      this.bind()
    },

    /** @param {WechatMiniprogram.CustomEvent<{ value: number }>} e */
    onRate(e) {
      this.setData({ rating: e.detail.value })
    },

    /** @param {WechatMiniprogram.Input} e */
    onComment(e) {
      this.setData({ comment: e.detail.value })
    },

    async onSubmitRating() {
      if (!this.data.rating || this.data.sending) return
      this.setData({ sending: true })
      try {
        const outcome = await api.bind(this.data.scene, { rating: this.data.rating, comment: this.data.comment.trim() })
        this.setData({ rated: true, pointsText: pointsText(outcome.points) })
      } catch (err) {
        api.showError(err)
      } finally {
        this.setData({ sending: false })
      }
    },

    onSubscribe() {
      return subscribe.offer(this, ['visit', 'order', 'maintenance'], (n) => `已开启 ${n} 项提醒`)
    },

    onEstate() {
      wx.switchTab({ url: '/pages/estate/index' })
    },

    onRequest() {
      const steward = this.data.steward
      const engineer = steward && steward.engineer ? `&engineer_id=${steward.engineer.id}` : ''
      wx.navigateTo({ url: `/pages/request/index?estate_id=${this.data.estate.id}${engineer}` })
    },

    onHome() {
      wx.switchTab({ url: '/pages/index/index' })
    },
  },
})
