// @ts-check
/**
 * An engineer's own brand page (`?id=`): photo, name, introduction, the estates they serve with
 * their rank in each, the rating summary (GET /api/v1/engineers/{id}), and the public reviews
 * (GET /api/v1/engineers/{id}/reviews, cursor-paginated, reviewers' names masked by the server).
 * The like (POST /api/v1/engineers/{id}/like) is offered when the server says `can_like` (they
 * completed an order for this resident); the server still decides, and its refusal is shown. "请他服务" opens the request page naming them.
 */
const api = require('../../utils/api')
const pagedList = require('../../utils/paged-list')

const PAGE_SIZE = 10

Component({
  behaviors: [pagedList({ query: { limit: PAGE_SIZE }, items: 'reviews', cursor: 'nextCursor', state: 'reviewsState' })],
  data: {
    state: 'loading',
    errorMessage: '',
    id: 0,
    /** @type {any} GET /api/v1/engineers/{id} */
    engineer: null,
    photo: '',
    initial: '',
    /** the average rating rounded for the stars (0 without reviews) */
    stars: 0,
    avg: '',
    liking: false,
    /** @type {any[]} */
    reviews: [],
  },
  methods: {
    /** @param {Record<string, string | undefined>} options */
    onLoad(options) {
      this.setData({ id: Number(options.id) || 0 })
      this.load()
    },

    /** The profile and the first page of reviews (a list with its own state). */
    async load() {
      if (!this.data.id) {
        this.setData({ state: 'error', errorMessage: '没有找到这位工程师' })
        return
      }
      await Promise.all([this.loadProfile(), this.loadList()])
    },

    async loadProfile() {
      try {
        const engineer = await api.request(`/api/v1/engineers/${this.data.id}`)
        const avg = engineer.totals.avg_rating
        this.setData({
          state: 'ready', engineer, photo: api.mediaUrl(engineer.photo_url), initial: (engineer.name || '?').slice(0, 1),
          stars: avg == null ? 0 : Math.round(avg), avg: avg == null ? '' : avg.toFixed(1),
        })
        wx.setNavigationBarTitle({ title: `${engineer.name}师傅` })
      } catch (err) {
        this.setData({ state: 'error', errorMessage: err instanceof api.ApiError ? err.message : '加载失败' })
      }
    },

    listPath() {
      return `/api/v1/engineers/${this.data.id}/reviews`
    },

    onRetryReviews() {
      this.setData({ reviewsState: 'loading' })
      this.loadList()
    },

    async onLike() {
      if (this.data.liking || this.data.engineer.liked) return
      this.setData({ liking: true })
      try {
        const result = await api.request(`/api/v1/engineers/${this.data.id}/like`, { method: 'POST' })
        const likes = this.data.engineer.totals.likes + (result.created ? 1 : 0)
        this.setData({ 'engineer.liked': true, 'engineer.can_like': false, 'engineer.totals.likes': likes })
        wx.showToast({ title: '已点赞', icon: 'success' })
      } catch (err) {
        api.showError(err)  // e.g. 403 not_served: 只有这位工程师为您完成过服务后才能点赞
      } finally {
        this.setData({ liking: false })
      }
    },

    /** "请他服务": the request page naming them, in the estate the resident is looking at when they serve it. */
    onRequest() {
      const estates = /** @type {{ id: number }[]} */ (this.data.engineer.estates)
      const current = getApp().globalData.estateId
      const estate = estates.find((e) => e.id === current) || (estates.length === 1 ? estates[0] : null)
      const where = estate ? `&estate_id=${estate.id}` : ''
      wx.navigateTo({ url: `/pages/request/index?engineer_id=${this.data.id}${where}` })
    },

    onShareAppMessage() {
      const engineer = this.data.engineer
      return {
        title: engineer ? `${engineer.name}师傅 · 邻里工程师` : '邻里工程师',
        path: `/pages/engineer/index?id=${this.data.id}`,
        imageUrl: this.data.photo || undefined,
      }
    },
  },
})
