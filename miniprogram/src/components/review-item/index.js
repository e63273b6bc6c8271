// @ts-check
/**
 * One review as the engineer's public page shows it: the reviewer's masked name (the server
 * masks it), the stars, the estate and day, the text and photos (a tap previews them).
 * Takes the API's {id, rating, text, photos, created_at, estate_name, reviewer_name}.
 */
const api = require('../../utils/api')
const format = require('../../utils/format')

Component({
  options: { styleIsolation: 'apply-shared' },
  properties: {
    review: { type: Object, value: {} },
  },
  data: {
    /** @type {string[]} */
    photos: [],
    when: '',
  },
  observers: {
    /** @param {any} review */
    review(review) {
      const r = review || {}
      this.setData({ photos: (r.photos || []).map((/** @type {string} */ p) => api.mediaUrl(p)), when: format.datetime(r.created_at, { time: false }) })
    },
  },
  methods: {
    /** @param {WechatMiniprogram.TouchEvent} e */
    onPreview(e) {
      const urls = this.data.photos
      wx.previewImage({ urls, current: urls[Number(e.currentTarget.dataset.index)] })
    },
  },
})
