// @ts-check
/**
 * Questions waiting for an answer in the estates I serve (GET /api/v1/engineer/questions, oldest
 * first, cursor-paginated), answered right here (POST /api/v1/posts/{id}/answers). What the server
 * did with the answer is said as it is (`status_label`): published — the question is answered —
 * or held until a moderator looks at it (I may add another). A tap on the question opens the post.
 */
const api = require('../../../utils/api')
const format = require('../../../utils/format')
const pagedList = require('../../../utils/paged-list')

const PAGE_SIZE = 20

/** @param {any} q the API's question */
function row(q) {
  return {
    id: q.id,
    estate: q.estate_name,
    author: q.author ? q.author.name : '邻居',
    when: format.datetime(q.created_at),
    text: q.text,
    photos: (q.photos || []).map(api.mediaUrl),
    held: Boolean(q.my_answer_held),
    /** my answer here was published: the answer and what the server said */
    answered: '',
    draft: '',
    error: '',
    sending: false,
  }
}

Component({
  behaviors: [pagedList({ path: '/api/v1/engineer/questions', query: { limit: PAGE_SIZE }, cursor: 'nextCursor' })],
  data: {
    /** @type {ReturnType<typeof row>[]} */
    items: [],
  },
  methods: {
    /**
     * A next page leaves out any question already shown.
     * @param {any[]} items
     * @param {boolean} more
     */
    listItems(items, more) {
      const shown = new Set(more ? this.data.items.map((q) => q.id) : [])
      return items.filter((q) => !shown.has(q.id)).map(row)
    },

    /** @param {number} id */
    indexOf(id) {
      return this.data.items.findIndex((q) => q.id === id)
    },

    /** @param {WechatMiniprogram.Input} e */
    onDraft(e) {
      const i = this.indexOf(Number(e.currentTarget.dataset.id))
      if (i >= 0) this.setData({ [`items[${i}].draft`]: e.detail.value, [`items[${i}].error`]: '' })
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    async onAnswer(e) {
      const id = Number(e.currentTarget.dataset.id)
      const i = this.indexOf(id)
      if (i < 0) return
      const item = this.data.items[i]
      const text = item.draft.trim()
      if (item.sending) return
      if (!text) {
        this.setData({ [`items[${i}].error`]: '请填写回答' })
        return
      }
      this.setData({ [`items[${i}].sending`]: true, [`items[${i}].error`]: '' })
      try {
        const answer = await api.request(`/api/v1/posts/${id}/answers`, { method: 'POST', data: { text } })
        const j = this.indexOf(id)
        if (answer.status === 'published') {
          this.setData({ [`items[${j}].answered`]: `${answer.status_label}：${answer.text}`, [`items[${j}].draft`]: '' })
        } else {
          this.setData({ [`items[${j}].held`]: true, [`items[${j}].draft`]: '' })
        }
        wx.showToast({ title: answer.status === 'published' ? '回答已发布' : '已提交，审核通过后显示', icon: 'none' })
      } catch (err) {
        const known = /** @type {any} */ (err)
        const j = this.indexOf(id)
        if (known instanceof api.ApiError && known.status >= 400 && known.status < 500 && known.status !== 401) {
          // refused (risky text, too long, the question was taken down): said under the box, the draft kept
          this.setData({ [`items[${j}].error`]: (known.fields.text || [])[0] || known.message })
        } else {
          api.showError(err)
        }
      } finally {
        const j = this.indexOf(id)
        if (j >= 0) this.setData({ [`items[${j}].sending`]: false })
      }
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onOpen(e) {
      wx.navigateTo({ url: `/pages/post/index?id=${e.currentTarget.dataset.id}` })
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onPreview(e) {
      const i = this.indexOf(Number(e.currentTarget.dataset.id))
      if (i >= 0) wx.previewImage({ urls: this.data.items[i].photos, current: e.currentTarget.dataset.url })
    },
  },
})
