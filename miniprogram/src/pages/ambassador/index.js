// @ts-check
/**
 * 服务代言人中心 (GET /api/v1/ambassador/me). Not an ambassador: what an ambassador is, and
 * either 申请成为服务代言人 (→ pages/apply) or where my application stands (pending, with a
 * withdraw; rejected, with the reason and the date I may apply again). An ambassador: my level,
 * my contribution in the rolling window and what the next level asks, what my level allows, my
 * estates and invite code, links to tasks, the invite page and my points, and this month's
 * leaderboard (GET /api/v1/ambassador/leaderboard) with my rank.
 */
const api = require('../../utils/api')
const dialog = require('../../utils/dialog')
const format = require('../../utils/format')
const reloadable = require('../../utils/reloadable')

/** ambassador.access.PERMISSION_LABELS */
const PERMISSIONS = { recruit: '邀请新代言人', announce: '发布小区公告', lead_activities: '组织社区活动' }
const APPLICATION_STATUS = { pending: '审核中', approved: '已通过', rejected: '未通过', withdrawn: '已撤回' }
const AMBASSADOR_STATUS = { active: '正常', suspended: '已暂停', removed: '已移除' }
const CHANNELS = { engineer: '工程师', member: '会员', referral: '代言人推荐' }

/**
 * The ambassador as the page shows it.
 * @param {any} a the MyAmbassadorSchema shape
 */
function ambassador(a) {
  const next = a.next_level
  const window = a.window_contribution || 0
  const permissions = (a.level.permissions || []).map((p) => PERMISSIONS[/** @type {keyof typeof PERMISSIONS} */ (p)] || p)
  return {
    status: a.status,
    active: a.status === 'active',
    statusText: AMBASSADOR_STATUS[/** @type {keyof typeof AMBASSADOR_STATUS} */ (a.status)] || a.status,
    statusReason: a.status_reason || '',
    levelName: a.level.name,
    window,
    windowDays: a.window_days,
    total: a.contribution_total,
    nextName: next ? next.name : '',
    nextThreshold: next ? next.threshold : 0,
    toNext: next ? Math.max(0, next.threshold - window) : 0,
    progress: next ? (next.threshold > 0 ? Math.min(100, Math.floor((window * 100) / next.threshold)) : 100) : 100,
    permissions,
    canRecruit: a.status === 'active' && (a.level.permissions || []).includes('recruit'),
    multiplier: a.level.multiplier_pct && a.level.multiplier_pct !== 100 ? `${a.level.multiplier_pct / 100}` : '',
    estates: (a.estates || []).map((e) => e.name).join('、'),
    inviteCode: a.invite_code || '',
    joined: format.datetime(a.joined_at, { time: false }),
  }
}

/**
 * My latest application as the page shows it.
 * @param {any} app the AmbassadorApplicationSchema shape
 */
function application(app) {
  const reapplyAt = app.reapply_after ? new Date(app.reapply_after).getTime() : 0
  return {
    id: app.id,
    status: app.status,
    statusText: APPLICATION_STATUS[/** @type {keyof typeof APPLICATION_STATUS} */ (app.status)] || app.status,
    channel: CHANNELS[/** @type {keyof typeof CHANNELS} */ (app.channel)] || app.channel,
    submitted: format.datetime(app.created_at),
    reason: app.status === 'rejected' ? (app.reason || '') : '',
    reapplyAfter: reapplyAt > Date.now() ? format.datetime(app.reapply_after, { time: false }) : '',
  }
}

Component({
  behaviors: [reloadable],
  data: {
    state: 'loading',
    /** @type {ReturnType<typeof ambassador> | null} */
    ambassador: null,
    /** @type {ReturnType<typeof application> | null} */
    application: null,
    canApply: false,
    /** @type {{ items: any[], me: { rank: number, points: number } } | null} */
    board: null,
    boardFailed: false,
    withdrawing: false,
  },
  methods: {
    /** Back from the application form or a task: where I stand may have changed. */
    onShow() {
      if (this.data.state === 'ready') this.load()
    },

    async load() {
      try {
        const me = await api.request('/api/v1/ambassador/me')
        const amb = me.ambassador ? ambassador(me.ambassador) : null
        const app = me.application ? application(me.application) : null
        const free = !amb || amb.status === 'removed'
        const canApply = free && !(app && (app.status === 'pending' || app.reapplyAfter))
        this.setData({ ambassador: amb, application: app, canApply, state: 'ready' })
        if (amb && amb.active) this.loadBoard()
      } catch (err) {
        this.loadFailed(err)
      }
    },

    /** This month's leaderboard of all ambassadors: the top five and my rank. */
    async loadBoard() {
      try {
        const board = await api.request('/api/v1/ambassador/leaderboard', { data: { scope: 'all', period: 'month', limit: 5 } })
        this.setData({ board: { items: board.items, me: board.me }, boardFailed: false })
      } catch (err) {
        this.setData({ boardFailed: true })
      }
    },

    onApply() {
      wx.navigateTo({ url: '/pages/apply/index' })
    },

    async onWithdraw() {
      const app = this.data.application
      if (!app || app.status !== 'pending' || this.data.withdrawing) return
      this.setData({ withdrawing: true })
      try {
        const confirmed = await dialog.confirm({
          title: '撤回申请',
          content: '撤回后可以修改信息重新申请。确定撤回吗？',
          confirmText: '撤回',
          cancelText: '再想想',
        })
        if (!confirmed) return
        await api.request(`/api/v1/ambassador/applications/${app.id}/withdraw`, { method: 'POST' })
        wx.showToast({ title: '申请已撤回', icon: 'none' })
        await this.load()
      } catch (err) {
        api.showError(err)
        if (err instanceof api.ApiError && err.status === 409) this.load()
      } finally {
        this.setData({ withdrawing: false })
      }
    },

    onTasks() {
      wx.navigateTo({ url: '/pages/tasks/index' })
    },

    onInvite() {
      wx.navigateTo({ url: '/pages/invite/index' })
    },

    onPoints() {
      wx.navigateTo({ url: '/pages/points/index' })
    },

    onCopyCode() {
      const code = this.data.ambassador && this.data.ambassador.inviteCode
      if (code) wx.setClipboardData({ data: code })
    },
  },
})
