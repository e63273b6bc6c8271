// @ts-check
/**
 * 任务详情 (`?id=`): the task (GET /api/v1/ambassador/tasks/{id}) with where I stand, and my
 * submissions to it (GET /api/v1/ambassador/submissions?task_id=) with their review status and
 * any rejection reason. 领取任务 takes it (POST …/accept); then the proof form (text, link,
 * photos through photo-picker, the kinds the task requires marked) is sent with an
 * Idempotency-Key (POST …/submissions); a 422 shows under the fields it names.
 */
const api = require('../../utils/api')
const form = require('../../utils/form')
const format = require('../../utils/format')
const reloadable = require('../../utils/reloadable')

const KINDS = { promotion: '推广', activity: '活动', content: '内容', recruit: '招募' }
const PROOFS = { text: '文字说明', link: '链接', photos: '照片' }
const SUBMISSION_STATUS = { pending: '待审核', approved: '已通过', rejected: '未通过' }
const SUBMISSION_BADGES = { pending: 'warn', approved: '', rejected: 'danger' }
/** What to fix, per proof field of a 422 (the server's field texts are not for users). */
const FIELD_HINTS = {
  text: '请填写文字说明（不超过 2000 字）',
  link: '请填写以 http:// 或 https:// 开头的链接',
  photos: '请上传 1–9 张您本人上传的照片',
}

/**
 * The address of a proof photo as stored (an upload's name, its path, or an http(s) URL).
 * @param {string} photo
 */
function photoUrl(photo) {
  if (/^https?:\/\//.test(photo)) return photo
  return api.mediaUrl(photo.startsWith('/') ? photo : `/api/v1/uploads/${photo}`)
}

/** @param {any} t the MyTaskSchema shape */
function task(t) {
  const required = t.proof_required || []
  const open = new Date(t.deadline).getTime() > Date.now()
  const full = t.remaining_for_me === 0 || t.remaining_total === 0
  return {
    id: t.id,
    title: t.title,
    description: t.description || '',
    kindText: KINDS[/** @type {keyof typeof KINDS} */ (t.kind)] || t.kind,
    points: t.points,
    deadline: format.datetime(t.deadline),
    perPerson: t.per_person_limit,
    places: t.remaining_total === null || t.remaining_total === undefined ? '' : `${t.remaining_total}`,
    proofs: required.map((/** @type {string} */ p) => PROOFS[/** @type {keyof typeof PROOFS} */ (p)] || p).join('、'),
    needText: required.includes('text'),
    needLink: required.includes('link'),
    needPhotos: required.includes('photos'),
    accepted: t.accepted,
    approved: t.approved,
    pending: t.pending,
    open,
    done: t.remaining_for_me === 0 && t.approved > 0,
    full,
    canAccept: open && !t.accepted && !full,
    canSubmit: open && t.accepted && !full && t.pending === 0,
  }
}

/** @param {any} s the SubmissionSchema shape */
function submission(s) {
  const status = /** @type {keyof typeof SUBMISSION_STATUS} */ (s.status)
  return {
    id: s.id,
    statusText: SUBMISSION_STATUS[status] || s.status,
    badge: SUBMISSION_BADGES[status] === undefined ? 'muted' : SUBMISSION_BADGES[status],
    text: s.text || '',
    link: s.link || '',
    photos: (s.photos || []).map(photoUrl),
    points: s.status === 'approved' && s.points ? `+${s.points} 积分` : '',
    reason: s.status === 'rejected' ? (s.reason || '') : '',
    when: format.datetime(s.created_at),
  }
}

Component({
  behaviors: [reloadable],
  data: {
    id: 0,
    state: 'loading',
    errorMessage: '',
    /** @type {ReturnType<typeof task> | null} */
    task: null,
    /** @type {ReturnType<typeof submission>[]} */
    submissions: [],
    accepting: false,
    sending: false,
    text: '',
    link: '',
    /** @type {string[]} upload ids from photo-picker */
    photos: [],
    /** @type {Record<string, string>} */
    errors: {},
    key: '',
  },
  methods: {
    /** @param {Record<string, string | undefined>} options */
    onLoad(options) {
      const id = Number(options.id)
      if (!id) {
        this.setData({ state: 'error', errorMessage: '没有找到这个任务' })
        return
      }
      this.setData({ id })
      this.load()
    },

    async load() {
      try {
        const [t, page] = await Promise.all([
          api.request(`/api/v1/ambassador/tasks/${this.data.id}`),
          api.request('/api/v1/ambassador/submissions', { data: { task_id: this.data.id } }),
        ])
        this.setData({ task: task(t), submissions: page.items.map(submission), state: 'ready' })
      } catch (err) {
        const known = err instanceof api.ApiError && (err.status === 403 || err.status === 404)
        this.loadFailed(err, { errorMessage: known ? /** @type {any} */ (err).message : '任务加载失败' })
      }
    },

    async onAccept() {
      if (this.data.accepting) return
      this.setData({ accepting: true })
      try {
        const t = await api.request(`/api/v1/ambassador/tasks/${this.data.id}/accept`, { method: 'POST' })
        this.setData({ task: task(t) })
        wx.showToast({ title: '已领取，完成后提交证明', icon: 'none' })
      } catch (err) {
        api.showError(err)
      } finally {
        this.setData({ accepting: false })
      }
    },

    /** @param {WechatMiniprogram.Input} e */
    onText(e) {
      this.setData({ text: e.detail.value, 'errors.text': '' })
    },

    /** @param {WechatMiniprogram.Input} e */
    onLink(e) {
      this.setData({ link: e.detail.value, 'errors.link': '' })
    },

    /** @param {WechatMiniprogram.CustomEvent<{ ids: string[] }>} e */
    onPhotos(e) {
      this.setData({ photos: e.detail.ids, 'errors.photos': '' })
    },

    async onSubmit() {
      if (this.data.sending) return
      this.setData({ sending: true, errors: {} })
      /** @type {Record<string, any>} */
      const body = {}
      if (this.data.text.trim()) body.text = this.data.text.trim()
      if (this.data.link.trim()) body.link = this.data.link.trim()
      if (this.data.photos.length) body.photos = this.data.photos
      try {
        await form.sendWithKey(this, 'key', `/api/v1/ambassador/tasks/${this.data.id}/submissions`, { method: 'POST', data: body })
        this.setData({ text: '', link: '', photos: [] })
        const picker = this.selectComponent('.photo-picker')
        if (picker) picker.clear()
        wx.showToast({ title: '已提交，等待审核', icon: 'none' })
        await this.load()
      } catch (err) {
        this.failed(err)
      } finally {
        this.setData({ sending: false })
      }
    },

    /** @param {unknown} err */
    failed(err) {
      const known = err instanceof api.ApiError ? err : null
      const errors = known && known.status === 422
        ? form.fieldErrors(known, (field) => FIELD_HINTS[/** @type {keyof typeof FIELD_HINTS} */ (field)] || known.message) : {}
      if (known && Object.keys(errors).length) {
        this.setData({ errors })
        wx.showToast({ title: known.message, icon: 'none' })
        return
      }
      api.showError(err)
      // Closed, past its deadline, a limit reached, already pending: show where it stands now.
      if (known && known.status === 409) this.load()
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onPreview(e) {
      const item = this.data.submissions[Number(e.currentTarget.dataset.index)]
      if (item) wx.previewImage({ urls: item.photos, current: String(e.currentTarget.dataset.url) })
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onCopyLink(e) {
      wx.setClipboardData({ data: String(e.currentTarget.dataset.link) })
    },
  },
})
