// @ts-check
/**
 * A post (`?id=`): the whole text and its photos (a tap previews them), the answers of a question
 * (the accepted one first, marked 已采纳; the asker may accept one), the comments, the like
 * (a toggle), and a box to answer (engineers of the estate and staff: the API's can_answer) or
 * comment (everyone in the estate's community). What the server did with a new answer or comment
 * is said as it is: published, or held until a moderator looks at it.
 */
const api = require('../../utils/api')
const reloadable = require('../../utils/reloadable')

/** @param {any[]} answers the accepted answer first, then in the order given */
const acceptedFirst = (answers) => [...answers.filter((a) => a.accepted), ...answers.filter((a) => !a.accepted)]

Component({
  behaviors: [reloadable],
  data: {
    id: 0,
    /** loading | ready | error */
    state: 'loading',
    errorMessage: '',
    retry: true,
    /** @type {any} */
    post: {},
    /** @type {any[]} */
    answers: [],
    /** @type {any[]} */
    comments: [],
    canAnswer: false,
    canAccept: false,
    /** what the box sends: answer | comment */
    mode: 'comment',
    draft: '',
    fieldError: '',
    sending: false,
    /** what happened to the last answer or comment sent (held: not shown to others yet) */
    notice: '',
    liking: false,
    accepting: 0,
  },
  methods: {
    /** @param {Record<string, string | undefined>} options */
    onLoad(options) {
      const id = Number(options.id || 0)
      if (!id) {
        this.setData({ state: 'error', errorMessage: '没有找到这条动态', retry: false })
        return
      }
      this.setData({ id })
      this.load()
    },

    async load() {
      const first = this.data.state !== 'ready'
      if (first) this.setData({ state: 'loading' })
      try {
        const detail = await api.request(`/api/v1/posts/${this.data.id}`)
        const question = detail.post.kind === 'question'
        const answering = detail.can_answer && question
        this.setData({
          state: 'ready',
          post: { ...detail.post, liked: detail.liked },
          answers: acceptedFirst(detail.answers),
          comments: detail.comments,
          canAnswer: detail.can_answer,
          canAccept: Boolean(detail.can_accept) && question,
          // a refresh keeps what the box was set to
          mode: answering && (first || this.data.mode === 'answer') ? 'answer' : 'comment',
        })
      } catch (err) {
        const known = err instanceof api.ApiError ? err : null
        this.setData({
          state: 'error',
          errorMessage: known ? known.message : '出错了，请重试',
          retry: !known || known.status === 0 || known.status >= 500,
        })
      }
    },

    /** The like toggles: POST likes, DELETE takes it back (both harmless to repeat). */
    async onLike() {
      if (this.data.liking) return
      const liked = Boolean(this.data.post.liked)
      this.setData({ liking: true })
      try {
        const result = await api.request(`/api/v1/posts/${this.data.id}/like`, { method: liked ? 'DELETE' : 'POST' })
        this.setData({ 'post.liked': result.liked, 'post.likes_count': result.likes_count })
      } catch (err) {
        api.showError(err)
      } finally {
        this.setData({ liking: false })
      }
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    async onAccept(e) {
      const answerId = Number(e.currentTarget.dataset.id)
      if (this.data.accepting) return
      this.setData({ accepting: answerId })
      try {
        const accepted = await api.request(`/api/v1/answers/${answerId}/accept`, { method: 'POST' })
        const answers = this.data.answers.map((a) => ({ ...a, accepted: a.id === accepted.id }))
        this.setData({ answers: acceptedFirst(answers), 'post.accepted_answer_id': accepted.id })
        wx.showToast({ title: '已采纳', icon: 'success' })
      } catch (err) {
        api.showError(err)
      } finally {
        this.setData({ accepting: 0 })
      }
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onMode(e) {
      this.setData({ mode: String(e.currentTarget.dataset.mode), fieldError: '' })
    },

    /** @param {WechatMiniprogram.Input} e */
    onDraft(e) {
      this.setData({ draft: e.detail.value, fieldError: '' })
    },

    async onSend() {
      const text = this.data.draft.trim()
      const answering = this.data.mode === 'answer'
      if (this.data.sending) return
      if (!text) {
        this.setData({ fieldError: answering ? '请填写回答' : '请填写评论' })
        return
      }
      this.setData({ sending: true, fieldError: '', notice: '' })
      try {
        const path = `/api/v1/posts/${this.data.id}/${answering ? 'answers' : 'comments'}`
        const item = await api.request(path, { method: 'POST', data: { text } })
        const published = item.status === 'published'
        const what = answering ? '回答' : '评论'
        /** @type {Record<string, any>} */
        const change = {
          draft: '',
          notice: published ? '' : `您的${what}${item.status_label}，目前只有您能看到`,
        }
        if (answering) change.answers = acceptedFirst([...this.data.answers, item])
        else change.comments = [...this.data.comments, item]
        if (published) {
          const counter = answering ? 'answers_count' : 'comments_count'
          change[`post.${counter}`] = (this.data.post[counter] || 0) + 1
        }
        this.setData(change)
        wx.showToast({ title: published ? `${what}已发布` : item.status_label, icon: published ? 'success' : 'none' })
      } catch (err) {
        if (err instanceof api.ApiError && (err.fields.text || err.code === 'content_risky')) {
          this.setData({ fieldError: err.fields.text ? err.fields.text[0] : err.message })
        } else {
          api.showError(err)
        }
      } finally {
        this.setData({ sending: false })
      }
    },
  },
})
