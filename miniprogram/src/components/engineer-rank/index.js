// @ts-check
/**
 * One engineer of an estate's ranking (GET /api/v1/estates/{id}/engineers): place, photo (or
 * initial), name, score and what it is made of (average rating and how many reviews, orders
 * completed in the ranking window, likes). A tap opens the engineer's page.
 */
const api = require('../../utils/api')

Component({
  properties: {
    /** the API's ranked row: {rank, engineer: {id, name, photo_url}, score, components: {...}} */
    item: { type: Object, value: {} },
    /** the ranking window (the API's window_days) */
    windowDays: { type: Number, value: 90 },
  },
  data: { photo: '', initial: '', rating: '', score: '' },
  observers: {
    /** @param {any} item */
    item(item) {
      const engineer = (item && item.engineer) || {}
      const parts = (item && item.components) || {}
      this.setData({
        photo: api.mediaUrl(engineer.photo_url),
        initial: (engineer.name || '?').slice(0, 1),
        rating: parts.avg_rating != null ? Number(parts.avg_rating).toFixed(1) : '',
        score: item && item.score != null ? Number(item.score).toFixed(1) : '',
      })
    },
  },
  methods: {
    onOpen() {
      const engineer = /** @type {any} */ (this.data.item).engineer
      if (engineer && engineer.id) wx.navigateTo({ url: `/pages/engineer/index?id=${engineer.id}` })
    },
  },
})
