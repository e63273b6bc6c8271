// @ts-check
/**
 * 邀请好友: my invite (GET /api/v1/ambassador/invite: the code, the scene `i=<code>` and the page
 * its mini-program code opens) as a share card (onShareAppMessage opens that same page with the
 * same scene, so a shared card and a scanned code arrive alike), the mini-program code picture
 * (its public URL by code, which a plain <image> can show: no bearer token needed) saved to the
 * album with wx.downloadFile → wx.saveImageToPhotosAlbum, and the people I invited
 * (GET /api/v1/ambassador/referrals: masked names, status, points they brought, totals).
 */
const api = require('../../utils/api')
const format = require('../../utils/format')
const pagedList = require('../../utils/paged-list')

const BADGES = { pending: 'warn', rewarded: '', flagged: 'danger', lapsed: 'muted' }

/** @param {any} r the InviteeSchema shape */
function invitee(r) {
  const status = /** @type {keyof typeof BADGES} */ (r.status)
  return {
    id: r.id,
    name: r.invitee_name,
    when: format.datetime(r.attributed_at, { time: false }),
    statusText: r.status_label,
    badge: BADGES[status] === undefined ? 'muted' : BADGES[status],
    points: r.points ? `+${r.points}` : '',
  }
}

Component({
  behaviors: [pagedList({ path: '/api/v1/ambassador/referrals', shape: invitee })],
  data: {
    errorMessage: '',
    /** @type {{ code: string, scene: string, page: string, image: string } | null} */
    invite: null,
    inviteError: '',
    /** A refusal (403: the level cannot recruit) is final; only a failure is worth a retry. */
    inviteRetry: false,
    /** @type {any} */
    totals: null,
    /** @type {ReturnType<typeof invitee>[]} */
    items: [],
    saving: false,
  },
  methods: {
    onLoad() {
      wx.showShareMenu({ menus: ['shareAppMessage'] })
      this.load()
    },

    /** The invite and the first page of referrals; a refused invite (level, WeChat) is told in its card. */
    async load() {
      const invite = api.request('/api/v1/ambassador/invite').then(
        (i) => ({ ok: true, value: i }), (err) => ({ ok: false, value: err }))
      try {
        const page = await api.request('/api/v1/ambassador/referrals')
        const answer = await invite
        this.setData({
          items: page.items.map(invitee), cursor: page.next_cursor, totals: page.totals, state: 'ready',
          invite: answer.ok ? { code: answer.value.invite_code, scene: answer.value.scene, page: answer.value.page, image: api.mediaUrl(answer.value.image_url) } : null,
          inviteError: answer.ok ? '' : (answer.value instanceof api.ApiError ? answer.value.message : '邀请码加载失败'),
          inviteRetry: !answer.ok && !(answer.value instanceof api.ApiError && answer.value.status === 403),
        })
      } catch (err) {
        await invite
        const message = err instanceof api.ApiError && err.status === 403 ? err.message : '邀请信息加载失败'
        this.loadFailed(err, { errorMessage: message })
      }
    },

    /** @param {any} page */
    listExtra(page) {
      return { totals: page.totals }
    },

    /** The share card opens the invite page with the invite's scene, like the scanned code. */
    onShareAppMessage() {
      const invite = this.data.invite
      if (!invite) return { title: '邻里：家电服务找管家', path: '/pages/index/index' }
      return {
        title: '邀请你加入邻里，家电服务有专属管家',
        path: `/${invite.page}?scene=${encodeURIComponent(invite.scene)}`,
      }
    },

    onCopyCode() {
      if (this.data.invite) wx.setClipboardData({ data: this.data.invite.code })
    },

    onPreview() {
      if (this.data.invite) wx.previewImage({ urls: [this.data.invite.image] })
    },

    /** Save the code picture: download it (a public URL), then into the album; a refused album permission leads to the settings. */
    async onSave() {
      const invite = this.data.invite
      if (!invite || this.data.saving) return
      this.setData({ saving: true })
      try {
        const file = await new Promise((resolve, reject) => {
          wx.downloadFile({
            url: invite.image,
            success: (res) => (res.statusCode === 200 ? resolve(res.tempFilePath) : reject(new Error(`status ${res.statusCode}`))),
            fail: reject,
          })
        })
        await new Promise((resolve, reject) => {
          wx.saveImageToPhotosAlbum({ filePath: /** @type {string} */ (file), success: resolve, fail: reject })
        })
        wx.showToast({ title: '已保存到相册', icon: 'none' })
      } catch (err) {
        const message = (err && /** @type {any} */ (err).errMsg) || ''
        if (/auth|deny|denied/i.test(message)) {
          wx.showModal({
            title: '需要相册权限',
            content: '请在设置中允许邻里保存图片到相册',
            confirmText: '去设置',
            success: (res) => { if (res.confirm) wx.openSetting({}) },
          })
        } else if (!/cancel/i.test(message)) {
          wx.showToast({ title: '保存失败，请长按图片保存', icon: 'none' })
        }
      } finally {
        this.setData({ saving: false })
      }
    },
  },
})
