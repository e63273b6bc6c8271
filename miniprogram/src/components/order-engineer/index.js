// @ts-check
/**
 * The engineer of an order (or the one a request names): photo (or initial), name and a line
 * below it; a tap opens their public page. Takes the API's {id, name, photo_url}.
 */
const api = require('../../utils/api')

Component({
  options: { styleIsolation: 'apply-shared' },
  properties: {
    /** {id, name, photo_url} as the order (`engineer`) or the engineer's profile sends it */
    engineer: { type: Object, value: {} },
    /** the line under the name (e.g. 为您服务的工程师) */
    note: { type: String, value: '' },
  },
  data: { photo: '', initial: '' },
  observers: {
    /** @param {any} engineer */
    engineer(engineer) {
      const e = engineer || {}
      this.setData({ photo: api.mediaUrl(e.photo_url), initial: (e.name || '?').slice(0, 1) })
    },
  },
  methods: {
    onOpen() {
      const engineer = /** @type {any} */ (this.data.engineer)
      if (engineer && engineer.id) wx.navigateTo({ url: `/pages/engineer/index?id=${engineer.id}` })
    },
  },
})
