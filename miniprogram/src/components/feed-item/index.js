// @ts-check
/**
 * One post of an estate's feed (the API's feed item or a post's detail): author and badge, kind,
 * text, photos (a tap previews them), a question's accepted answer, the counts and the like
 * button. A tap opens the post's page (not on that page itself: `detail`). A tap on the like
 * button triggers `like` {id, liked}: the page calls the API and passes the post back updated.
 */
const api = require('../../utils/api')

const KIND_LABELS = { question: '提问', review: '服务评价', photo: '晒图', announcement: '小区公告' }
/** Photos shown in the feed; the post's page shows all of them. */
const FEED_PHOTOS = 3

Component({
  properties: {
    /** the API's post: {id, kind, text, photos, status, status_label, author, *_count, liked, accepted_answer?, created_at} */
    post: { type: Object, value: {} },
    /** on the post's own page: the whole text and every photo, no tap to open */
    detail: { type: Boolean, value: false },
  },
  data: {
    kindLabel: '',
    /** @type {string[]} */
    photos: [],
    /** @type {string[]} every photo's URL (for the preview) */
    allPhotos: [],
    morePhotos: 0,
  },
  observers: {
    /** @param {any} post @param {boolean} detail */
    'post, detail'(post, detail) {
      const all = ((post && post.photos) || []).map((/** @type {string} */ p) => api.mediaUrl(p))
      const shown = detail ? all : all.slice(0, FEED_PHOTOS)
      this.setData({
        kindLabel: KIND_LABELS[/** @type {keyof typeof KIND_LABELS} */ (post && post.kind)] || '',
        photos: shown,
        allPhotos: all,
        morePhotos: all.length - shown.length,
      })
    },
  },
  methods: {
    onOpen() {
      const post = /** @type {any} */ (this.data.post)
      if (this.data.detail || !post.id) return
      wx.navigateTo({ url: `/pages/post/index?id=${post.id}` })
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onPreview(e) {
      const urls = this.data.allPhotos
      wx.previewImage({ urls, current: urls[Number(e.currentTarget.dataset.index)] })
    },

    onLike() {
      const post = /** @type {any} */ (this.data.post)
      this.triggerEvent('like', { id: post.id, liked: Boolean(post.liked) })
    },
  },
})
