// @ts-check
/**
 * 首页 (a tab): my stewards (tap → the engineer's page), my estates with the current one marked
 * (getApp().globalData.estateId, else the first) — tap one to make it current and open the 小区
 * tab, 退出 to leave it —, quick actions (问邻居, 预约服务, 积分, 消息 with the unread count) and,
 * for engineers, the 工程师工作台 entry. A new user with neither a steward nor an estate is told
 * how to get them. Every show reloads (coming back from 添加小区, a binding, a left estate).
 *
 * A change of steward offered to me (an admin's move, or my engineer left: the steward's
 * `handover`) shows under the card with its deadline, 同意 and 拒绝 (a reason may be typed; without
 * an answer it takes effect after 24 hours, docs/community.md "Steward handover").
 *
 * It is also the page an ambassador's invite opens (their code's scene `i=<code>`, or the shared
 * card's `?scene=`): the newcomer is attributed to the inviter at once (POST /api/v1/referrals,
 * first touch wins on the server) and offered the ambassador application with the code filled in.
 * A refused invite (one's own, an inviter who may no longer recruit) is not worth an error.
 */
const api = require('../../utils/api')
const format = require('../../utils/format')
const reloadable = require('../../utils/reloadable')

/** @param {unknown} err */
const messageOf = (err) => (err instanceof api.ApiError ? err.message : '出错了，请重试')

/** @param {number} n */
const badgeText = (n) => (n > 99 ? '99+' : String(n))

Component({
  behaviors: [reloadable],
  data: {
    /** loading | ready | empty (no steward, no estate) | error */
    state: 'loading',
    errorMessage: '',
    /** @type {any[]} GET /api/v1/me/stewards items */
    stewards: [],
    /** @type {{ id: number, name: string, city: string, district: string }[]} my estates */
    estates: [],
    /** the current estate's id (0: none) */
    currentId: 0,
    currentName: '',
    unread: 0,
    unreadText: '',
    isEngineer: false,
    /** the estate being left */
    leavingId: 0,
    /** the handover being accepted or refused */
    decidingId: 0,
    /** @type {{ code: string, inviter: string } | null} the invite this visit came through */
    invite: null,
  },
  methods: {
    /** @param {Record<string, string | undefined>} options */
    onLoad(options) {
      const scene = decodeURIComponent((options && options.scene) || '')
      if (scene.startsWith('i=')) this.acceptInvite(scene)
    },

    onShow() {
      this.load()
    },

    /** @param {string} scene "i=<code>" */
    async acceptInvite(scene) {
      try {
        const outcome = await api.request('/api/v1/referrals', {
          method: 'POST', data: { invite_code: scene }, header: { 'Idempotency-Key': api.newKey() } })
        if (outcome.result === 'created' || outcome.result === 'switched' || outcome.result === 'unchanged') {
          this.setData({ invite: { code: scene.slice(2), inviter: outcome.referral.inviter_name } })
        }
      } catch (err) {
        // Not for the newcomer to fix (their own code, an inviter who may no longer recruit).
      }
    },

    onApply() {
      const invite = this.data.invite
      if (invite) wx.navigateTo({ url: `/pages/apply/index?invite_code=${encodeURIComponent(invite.code)}` })
    },

    /**
     * Stewards and estates decide the page; the account (engineer role) and the unread count
     * are extras: when they fail the page still shows, without them.
     */
    async load() {
      const extra = (/** @type {Promise<any>} */ call) => call.catch(() => null)
      try {
        const [stewards, mine, me, inbox] = await Promise.all([
          api.request('/api/v1/me/stewards'),
          api.request('/api/v1/me/estates'),
          extra(api.request('/api/v1/me')),
          extra(api.request('/api/v1/me/notifications', { data: { limit: 1 } })),
        ])
        const estates = mine.items.map((/** @type {any} */ r) => r.estate)
        const app = getApp().globalData
        if (me) app.me = me
        const unread = inbox ? inbox.unread_count || 0 : this.data.unread
        this.setData({
          state: stewards.items.length || estates.length ? 'ready' : 'empty',
          stewards: stewards.items.map((/** @type {any} */ s) => (
            s.handover ? { ...s, handoverDue: format.datetime(s.handover.due_at) } : s)),
          estates,
          unread,
          unreadText: badgeText(unread),
          isEngineer: Boolean(me ? (me.roles || []).includes('engineer') : this.data.isEngineer),
        })
        this.pickCurrent()
      } catch (err) {
        this.setData({ state: 'error', errorMessage: messageOf(err) })
      }
    },

    /** The current estate: the app's, when I still live there; else my first (and the app follows). */
    pickCurrent() {
      const app = getApp().globalData
      const estates = this.data.estates
      const current = estates.find((e) => e.id === app.estateId) || estates[0]
      app.estateId = current ? current.id : null
      this.setData({ currentId: current ? current.id : 0, currentName: current ? current.name : '' })
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onSwitch(e) {
      getApp().globalData.estateId = Number(e.currentTarget.dataset.id)
      wx.switchTab({ url: '/pages/estate/index' })
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onLeave(e) {
      const id = Number(e.currentTarget.dataset.id)
      const estate = this.data.estates.find((x) => x.id === id)
      if (!estate || this.data.leavingId) return
      wx.showModal({
        title: '退出小区',
        content: `确定退出「${estate.name}」吗？退出后将看不到该小区的动态，可随时重新加入。`,
        confirmText: '退出',
        confirmColor: '#c0392b',
        success: (res) => { if (res.confirm) this.leave(estate) },
      })
    },

    /** @param {{ id: number, name: string }} estate */
    async leave(estate) {
      this.setData({ leavingId: estate.id })
      try {
        await api.request(`/api/v1/me/estates/${estate.id}`, { method: 'DELETE' })
        wx.showToast({ title: `已退出${estate.name}`, icon: 'none' })
        const estates = this.data.estates.filter((e) => e.id !== estate.id)
        this.setData({ estates, state: estates.length || this.data.stewards.length ? 'ready' : 'empty' })
        this.pickCurrent()
      } catch (err) {
        api.showError(err)
        this.load()
      } finally {
        this.setData({ leavingId: 0 })
      }
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onAcceptHandover(e) {
      this.decide(Number(e.currentTarget.dataset.id), 'accept', null)
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onRefuseHandover(e) {
      const id = Number(e.currentTarget.dataset.id)
      const steward = this.data.stewards.find((s) => s.handover && s.handover.id === id)
      if (!steward || this.data.decidingId) return
      wx.showModal({
        title: '拒绝更换管家',
        content: '',
        editable: true,
        placeholderText: `拒绝原因（选填）。拒绝后${steward.engineer.status === 'left' ? '您将暂无管家，工程师下次上门扫码即可重新绑定' : `仍由${steward.engineer.name}为您服务`}`,
        confirmText: '拒绝',
        confirmColor: '#c0392b',
        success: (res) => { if (res.confirm) this.decide(id, 'refuse', (res.content || '').trim() || null) },
      })
    },

    /**
     * @param {number} id the handover
     * @param {'accept' | 'refuse'} action
     * @param {string | null} reason
     */
    async decide(id, action, reason) {
      if (this.data.decidingId) return
      this.setData({ decidingId: id })
      try {
        await api.request(`/api/v1/me/handovers/${id}/${action}`, {
          method: 'POST', data: action === 'refuse' ? { reason } : {} })
        wx.showToast({ title: action === 'accept' ? '已更换管家' : '已拒绝更换', icon: 'none' })
      } catch (err) {
        api.showError(err)
      } finally {
        this.setData({ decidingId: 0 })
        this.load()
      }
    },

    onAddEstate() {
      wx.navigateTo({ url: '/pages/estates/index' })
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onAction(e) {
      const action = String(e.currentTarget.dataset.action)
      const estateId = this.data.currentId
      if ((action === 'ask' || action === 'request') && !estateId) {
        wx.showToast({ title: '请先加入您的小区', icon: 'none' })
        wx.navigateTo({ url: '/pages/estates/index' })
        return
      }
      const urls = {
        ask: `/pages/ask/index?estate_id=${estateId}`,
        request: `/pages/request/index?estate_id=${estateId}`,
        points: '/pages/points/index',
        notifications: '/pages/notifications/index',
      }
      const url = urls[/** @type {keyof typeof urls} */ (action)]
      if (url) wx.navigateTo({ url })
    },

    onWork() {
      wx.navigateTo({ url: '/pages/work/index' })
    },
  },
})
