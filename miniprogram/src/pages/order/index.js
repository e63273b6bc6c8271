// @ts-check
/**
 * One of my service orders (`?id=`, `&created=1` right after the request): its timeline, the
 * engineer, where and whom, the photos (GET /api/v1/service-orders/{id}). While open: the
 * subscribe prompt for its notices and cancelling with a reason. Once completed: one review
 * (stars, text, photos), then sharing it to the estate feed once (GET/POST
 * /api/v1/service-orders/{id}/review/share). A complaint, once, while assigned, scheduled or
 * completed. What was done shows on the page (the server's order and share state).
 */
const api = require('../../utils/api')
const format = require('../../utils/format')
const subscribe = require('../../utils/subscribe')
const reloadable = require('../../utils/reloadable')

const OPEN = ['requested', 'assigned', 'scheduled']
const COMPLAINABLE = ['assigned', 'scheduled', 'completed']
const CANCEL_REASONS = ['计划有变，暂不需要', '问题已自行解决', '重复提交了申请', '其他原因']

Component({
  behaviors: [reloadable],
  data: {
    state: 'loading',
    errorMessage: '',
    id: 0,
    created: false,
    /** @type {any} GET /api/v1/service-orders/{id} */
    order: null,
    statusText: '',
    /** @type {string[]} the request's photos, as URLs */
    photos: [],
    open: false,
    canComplain: false,
    /** @type {{ rating: number, text: string, photos: string[], when: string } | null} the review, as shown */
    review: null,
    reviewNote: '',
    /** the share state is known (GET …/review/share answered) */
    shareKnown: false,
    shared: false,
    shareLabel: '',
    sharing: false,
    // the review form
    rating: 0,
    reviewText: '',
    /** @type {string[]} */
    reviewPhotos: [],
    reviewing: false,
    // the complaint form
    complaining: false,
    complaintText: '',
    complaintError: '',
    sendingComplaint: false,
    cancelling: false,
    subscribed: false,
  },
  methods: {
    /** @param {Record<string, string | undefined>} options */
    onLoad(options) {
      this.setData({ id: Number(options.id) || 0, created: options.created === '1' })
      this.load()
    },

    async load() {
      if (!this.data.id) {
        this.setData({ state: 'error', errorMessage: '没有找到这张服务单' })
        return
      }
      try {
        this.show(await api.request(`/api/v1/service-orders/${this.data.id}`))
        this.setData({ state: 'ready' })
      } catch (err) {
        this.setData({ state: 'error', errorMessage: err instanceof api.ApiError ? err.message : '加载失败' })
        return
      }
      if (this.data.order.review) await this.loadShare()
    },

    /** @param {any} order */
    show(order) {
      const review = order.review
      this.setData({
        order,
        statusText: format.ORDER_STATUS[/** @type {keyof typeof format.ORDER_STATUS} */ (order.status)] || order.status_label,
        photos: (order.photos || []).map((/** @type {string} */ p) => api.mediaUrl(p)),
        open: OPEN.includes(order.status),
        canComplain: COMPLAINABLE.includes(order.status) && !order.complained,
        review: review ? {
          rating: review.rating, text: review.text, when: format.datetime(review.created_at),
          photos: (review.photos || []).map((/** @type {string} */ p) => api.mediaUrl(p)),
        } : null,
      })
    },

    /** Whether my review was shared to the estate feed (the page offers the share only until it was). */
    async loadShare() {
      try {
        const status = await api.request(`/api/v1/service-orders/${this.data.id}/review/share`)
        this.setData({ shareKnown: true, shared: status.shared, shareLabel: status.post ? status.post.status_label : '' })
      } catch (err) {
        this.setData({ shareKnown: false })  // not my review (an engineer looking): no share button
      }
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onPreview(e) {
      const urls = e.currentTarget.dataset.set === 'review' ? /** @type {any} */ (this.data.review).photos : this.data.photos
      wx.previewImage({ urls, current: urls[Number(e.currentTarget.dataset.index)] })
    },

    onCall() {
      const phone = this.data.order && this.data.order.contact_phone
      if (phone && !phone.includes('*')) wx.makePhoneCall({ phoneNumber: phone })
    },

    // -- cancel ------------------------------------------------------------------------------

    onCancel() {
      if (this.data.cancelling) return
      wx.showActionSheet({
        itemList: CANCEL_REASONS,
        success: (res) => {
          const reason = CANCEL_REASONS[res.tapIndex]
          wx.showModal({
            title: '取消服务单', content: `确定取消这张服务单吗？原因：${reason}`, confirmText: '确定取消', cancelText: '再想想',
            success: (answer) => { if (answer.confirm) this.cancel(reason) },
          })
        },
      })
    },

    /** @param {string} reason */
    async cancel(reason) {
      this.setData({ cancelling: true })
      try {
        this.show(await api.request(`/api/v1/service-orders/${this.data.id}/cancel`, { method: 'POST', data: { reason } }))
        wx.showToast({ title: '已取消', icon: 'success' })
      } catch (err) {
        api.showError(err)
        if (err instanceof api.ApiError && err.code === 'order_state_changed') this.load()  // show what happened
      } finally {
        this.setData({ cancelling: false })
      }
    },

    // -- review ------------------------------------------------------------------------------

    /** @param {WechatMiniprogram.CustomEvent<{ value: number }>} e */
    onRate(e) {
      this.setData({ rating: e.detail.value })
    },

    /** @param {WechatMiniprogram.Input} e */
    onReviewText(e) {
      this.setData({ reviewText: e.detail.value })
    },

    /** @param {WechatMiniprogram.CustomEvent<{ ids: string[] }>} e */
    onReviewPhotos(e) {
      this.setData({ reviewPhotos: e.detail.ids })
    },

    async onSubmitReview() {
      if (!this.data.rating || this.data.reviewing) return
      this.setData({ reviewing: true })
      try {
        const result = await api.request(`/api/v1/service-orders/${this.data.id}/review`, {
          method: 'POST', data: { rating: this.data.rating, text: this.data.reviewText.trim(), photos: this.data.reviewPhotos },
        })
        this.show({ ...this.data.order, rating: result.review.rating, review: result.review })
        this.setData({
          shareKnown: true, shared: false, shareLabel: '',
          reviewNote: result.points ? `感谢评价，获得 ${result.points} 积分` : (result.points_refused || '感谢您的评价'),
        })
        wx.showToast({ title: '评价成功', icon: 'success' })
      } catch (err) {
        api.showError(err)
        if (err instanceof api.ApiError && err.code === 'already_reviewed') this.load()
      } finally {
        this.setData({ reviewing: false })
      }
    },

    async onShare() {
      if (this.data.sharing || this.data.shared) return
      this.setData({ sharing: true })
      try {
        const post = await api.request(`/api/v1/service-orders/${this.data.id}/review/share`, { method: 'POST' })
        this.setData({ shared: true, shareLabel: post.status_label })
        wx.showToast({ title: post.status === 'published' ? '已分享到小区动态' : post.status_label, icon: 'none' })
      } catch (err) {
        api.showError(err)
      } finally {
        this.setData({ sharing: false })
      }
    },

    // -- complaint ---------------------------------------------------------------------------

    onComplain() {
      this.setData({ complaining: !this.data.complaining, complaintError: '' })
    },

    /** @param {WechatMiniprogram.Input} e */
    onComplaintText(e) {
      this.setData({ complaintText: e.detail.value, complaintError: '' })
    },

    async onSubmitComplaint() {
      if (this.data.sendingComplaint) return
      const text = this.data.complaintText.trim()
      if (!text) {
        this.setData({ complaintError: '请描述您遇到的问题' })
        return
      }
      this.setData({ sendingComplaint: true })
      try {
        await api.request(`/api/v1/service-orders/${this.data.id}/complaints`, { method: 'POST', data: { text } })
        this.show({ ...this.data.order, complained: true })
        this.setData({ complaining: false, complaintText: '' })
        wx.showToast({ title: '投诉已提交', icon: 'success' })
      } catch (err) {
        const fields = err instanceof api.ApiError ? err.fields : {}
        if (fields.text) this.setData({ complaintError: fields.text[0] })
        else api.showError(err)
        if (err instanceof api.ApiError && err.code === 'already_complained') {
          this.show({ ...this.data.order, complained: true })
          this.setData({ complaining: false })
        }
      } finally {
        this.setData({ sendingComplaint: false })
      }
    },

    // -- notices -----------------------------------------------------------------------------

    onSubscribe() {
      return subscribe.offer(this, ['order'], () => '已开启服务进度提醒')
    },

    onOrders() {
      wx.navigateTo({ url: '/pages/orders/index' })
    },
  },
})
