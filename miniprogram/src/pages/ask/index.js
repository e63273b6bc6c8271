// @ts-check
/**
 * Ask the estate a question (`?estate_id=`, optional `name`): the text and up to 9 photos
 * (POST /api/v1/estates/{id}/posts, kind question). The server checks the text: a question it
 * holds for a moderator is said to be under review, not published; then the post's page opens.
 * Field errors of a 422 are shown under their field. Resending after a lost answer cannot post
 * twice (one Idempotency-Key per version of the form).
 */
const api = require('../../utils/api')

/** The API's limits (community.feed: PostCreateSchema, MAX_PHOTOS). */
const MAX_TEXT = 2000
const MAX_PHOTOS = 9

Component({
  data: {
    estateId: 0,
    estateName: '',
    text: '',
    /** @type {string[]} upload ids from the photo picker */
    photoIds: [],
    /** @type {{ text?: string, photo_ids?: string }} */
    errors: {},
    sending: false,
    maxText: MAX_TEXT,
    maxPhotos: MAX_PHOTOS,
    /** the Idempotency-Key of this version of the form */
    key: '',
  },
  methods: {
    /** @param {Record<string, string | undefined>} options */
    onLoad(options) {
      this.setData({
        estateId: Number(options.estate_id || 0),
        estateName: options.name ? decodeURIComponent(options.name) : '',
        key: api.newKey(),
      })
    },

    /** @param {WechatMiniprogram.Input} e */
    onText(e) {
      this.setData({ text: e.detail.value, 'errors.text': '', key: api.newKey() })
    },

    /** @param {WechatMiniprogram.CustomEvent<{ ids: string[] }>} e */
    onPhotos(e) {
      this.setData({ photoIds: e.detail.ids, 'errors.photo_ids': '', key: api.newKey() })
    },

    onEstate() {
      wx.switchTab({ url: '/pages/estate/index' })
    },

    async onSubmit() {
      if (this.data.sending) return
      const text = this.data.text.trim()
      if (!text) {
        this.setData({ errors: { text: '请写下您的问题' } })
        return
      }
      const picker = /** @type {any} */ (this.selectComponent('.photos'))
      if (picker && picker.data.uploading > 0) {
        wx.showToast({ title: '照片还在上传，请稍候', icon: 'none' })
        return
      }
      this.setData({ sending: true, errors: {} })
      try {
        const post = await api.request(`/api/v1/estates/${this.data.estateId}/posts`, {
          method: 'POST',
          data: { kind: 'question', text, photo_ids: this.data.photoIds },
          header: { 'Idempotency-Key': this.data.key },
        })
        getApp().globalData.feedStale = true
        if (post.status === 'published') {
          wx.showToast({ title: '已发布', icon: 'success' })
        } else {
          await new Promise((resolve) => {
            wx.showModal({
              title: '提问已提交审核',
              content: `${post.status_label}。审核通过前，只有您能看到这条提问。`,
              showCancel: false,
              confirmText: '知道了',
              success: () => resolve(null),
              fail: () => resolve(null),
            })
          })
        }
        wx.redirectTo({ url: `/pages/post/index?id=${post.id}` })
      } catch (err) {
        this.fail(err)
      } finally {
        this.setData({ sending: false })
      }
    },

    /** Field errors under their field; refused text under the text; anything else in a toast. @param {unknown} err */
    fail(err) {
      if (!(err instanceof api.ApiError)) {
        api.showError(err)
        return
      }
      const fields = err.fields
      if (fields.text || fields.photo_ids) {
        this.setData({ errors: { text: (fields.text || [])[0] || '', photo_ids: (fields.photo_ids || [])[0] || '' } })
      } else if (err.code === 'content_risky') {
        this.setData({ errors: { text: err.message } })
      } else {
        api.showError(err)
      }
    },
  },
})
