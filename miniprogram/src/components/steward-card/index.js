// @ts-check
/** A steward as residents see them: photo (or initial), name, estate, rank in the estate; a tap opens their page. */
const api = require('../../utils/api')

Component({
  properties: {
    /** the API's steward shape: {engineer: {id, name, photo_url}, estate: {id, name}, rank?} */
    steward: { type: Object, value: {} },
  },
  data: { photo: '', initial: '' },
  observers: {
    /** @param {any} steward */
    steward(steward) {
      const engineer = (steward && steward.engineer) || {}
      this.setData({ photo: api.mediaUrl(engineer.photo_url), initial: (engineer.name || '?').slice(0, 1) })
    },
  },
  methods: {
    onOpen() {
      const engineer = /** @type {any} */ (this.data.steward).engineer
      if (engineer && engineer.id) wx.navigateTo({ url: `/pages/engineer/index?id=${engineer.id}` })
    },
  },
})
