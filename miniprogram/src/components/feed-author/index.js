// @ts-check
/**
 * Who wrote a post, an answer or a comment, as the API's `author` says: the name, the role badge
 * (工程师, 客服, 管理员, 服务代言人; none for a resident) and, optionally, when.
 */
const format = require('../../utils/format')

Component({
  properties: {
    /** the API's author: {id, name, badge, badge_label} */
    author: { type: Object, value: {} },
    /** an ISO time (created_at); empty shows none */
    time: { type: String, value: '' },
  },
  data: { when: '' },
  observers: {
    /** @param {string} time */
    time(time) {
      this.setData({ when: format.datetime(time) })
    },
  },
})
