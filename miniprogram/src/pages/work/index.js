// @ts-check
/**
 * 工作台 (engineer mode): who I am (GET /api/v1/engineer/me), my rank in each estate I serve
 * (GET /api/v1/engineers/{id}, as the estate's ranking places me), my points and ambassador level,
 * what waits for me (orders to schedule and to complete, questions to answer), my customers' care
 * (due and overdue care items, open follow-ups, open health alerts: each a way into its page) and
 * the entries to the engineer's pages; the password of the web workbench (PUT /api/v1/me/password), which I
 * log in to with my employee number. Changing a password asks for the current one; a first password
 * is proven with a fresh wx.login code of my own WeChat (the server checks it is the same account),
 * so a copied token alone cannot open the web workbench.
 *
 * Without the engineer role the API answers 403: the page says what engineer mode is and takes
 * the invite code staff gave the engineer (POST /api/v1/engineer/claim) — the step the web
 * login page and the console's invite tell engineers to take here.
 */
const api = require('../../utils/api')
const reloadable = require('../../utils/reloadable')
const shared = require('./shared')

const ENTRIES = [
  { key: 'code', title: '出示绑定码', hint: '上门时请住户扫码，绑定您为管家', url: '/pages/work/code/index' },
  { key: 'customers', title: '我的客户', hint: '已绑定您为管家的住户', url: '/pages/work/customers/index' },
  { key: 'orders', title: '我的服务单', hint: '预约上门、完成服务', url: '/pages/work/orders/index' },
  { key: 'questions', title: '小区问答', hint: '回答住户的提问', url: '/pages/work/questions/index' },
  { key: 'visit', title: '发布上门安排', hint: '通知小区住户预约时段', url: '/pages/work/visit/index' },
]
/** How many questions (follow-ups, alerts) a count looks at: more shows as "20+". */
const COUNTED = 20
/** The customer-care figures: each opens its page. */
const CARE = {
  due: '/pages/work/reminders/index?status=due',
  overdue: '/pages/work/reminders/index?status=overdue',
  followUps: '/pages/work/follow-ups/index',
  alerts: '/pages/work/alerts/index',
}

/**
 * A secondary call: its answer, or null when it failed (the page shows what it has).
 * @param {Promise<any>} call
 */
const settle = (call) => call.then((v) => v, () => null)

Component({
  behaviors: [reloadable],
  data: {
    /** loading | ready | outsider (no engineer role) | error */
    state: 'loading',
    /** @type {any} */
    engineer: null,
    photo: '',
    initial: '',
    /** @type {{ id: number, name: string, rank: string, score: string }[]} */
    ranks: [],
    /** @type {number | null} */
    balance: null,
    level: '',
    completed: '',
    rating: '',
    /** @type {{ assigned: string, scheduled: string, questions: string }} */
    todo: { assigned: '', scheduled: '', questions: '' },
    /** @type {{ due: string, overdue: string, followUps: string, alerts: string }} '' when its call failed */
    care: { due: '', overdue: '', followUps: '', alerts: '' },
    entries: ENTRIES,
    username: '',
    password: '',
    currentPassword: '',
    passwordError: '',
    savingPassword: false,
    /** a web password is set (GET /api/v1/me has_password, or set from this page) */
    passwordSet: false,
    outsiderMessage: '',
    inviteCode: '',
    claimError: '',
    claiming: false,
    /** just claimed: say what comes next */
    welcome: false,
  },
  methods: {
    /** Back from an engineer page: the counts may have changed. */
    onShow() {
      if (this.data.state === 'ready') this.load()
    },

    async load() {
      /** @type {any} */
      let engineer
      try {
        engineer = await api.request('/api/v1/engineer/me')
      } catch (err) {
        const known = /** @type {any} */ (err)
        if (known instanceof api.ApiError && known.status === 403) {
          this.setData({
            state: 'outsider',
            outsiderMessage: known.code === 'not_engineer' ? '您的工程师账号已停用，如有疑问请联系管理员。' : '',
          })
        } else {
          this.loadFailed(err)
        }
        return
      }
      const [profile, points, ambassador, counts, questions, me, careCounts, followUps, alerts] = await Promise.all([
        settle(api.request(`/api/v1/engineers/${engineer.id}`)),
        settle(api.request('/api/v1/me/points')),
        settle(api.request('/api/v1/ambassador/me')),
        settle(api.request('/api/v1/engineer/service-orders/counts')),
        settle(api.request('/api/v1/engineer/questions', { data: { limit: COUNTED } })),
        settle(api.request('/api/v1/me')),
        settle(api.request('/api/v1/engineer/reminders/counts')),
        settle(api.request('/api/v1/engineer/follow-ups', { data: { status: 'open', limit: COUNTED } })),
        settle(api.request('/api/v1/engineer/health-alerts', { data: { status: 'open', limit: COUNTED } })),
      ])
      if (me) getApp().globalData.me = me
      const ranked = profile ? profile.estates : engineer.estates
      this.setData({
        state: 'ready',
        engineer,
        photo: api.mediaUrl(engineer.photo_url),
        initial: (engineer.name || '?').slice(0, 1),
        ranks: ranked.map((/** @type {any} */ e) => ({
          id: e.id, name: e.name,
          rank: e.rank ? `第 ${e.rank} 名` : '暂未上榜',
          score: e.score != null ? `综合 ${Number(e.score).toFixed(1)}` : '',
        })),
        balance: points ? points.balance : null,
        level: levelText(ambassador),
        completed: profile ? String(profile.totals.completed) : '',
        rating: profile && profile.totals.avg_rating != null ? Number(profile.totals.avg_rating).toFixed(1) : '',
        todo: {
          assigned: counts ? String(counts.assigned) : '',
          scheduled: counts ? String(counts.scheduled) : '',
          questions: shared.pageCount(questions),
        },
        care: {
          due: careCounts ? String(careCounts.due) : '',
          overdue: careCounts ? String(careCounts.overdue) : '',
          followUps: shared.pageCount(followUps),
          alerts: shared.pageCount(alerts),
        },
        username: (me && me.username) || engineer.employee_no,
        passwordSet: Boolean(me && me.has_password),
      })
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onEntry(e) {
      wx.navigateTo({ url: e.currentTarget.dataset.url })
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onTodo(e) {
      const status = e.currentTarget.dataset.status
      wx.navigateTo({ url: status ? `/pages/work/orders/index?status=${status}` : '/pages/work/questions/index' })
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onCare(e) {
      wx.navigateTo({ url: CARE[/** @type {keyof typeof CARE} */ (e.currentTarget.dataset.key)] })
    },

    onPoints() {
      wx.navigateTo({ url: '/pages/points/index' })
    },

    onAmbassador() {
      wx.navigateTo({ url: '/pages/ambassador/index' })
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onRank(e) {
      getApp().globalData.estateId = e.currentTarget.dataset.id
      wx.switchTab({ url: '/pages/estate/index' })
    },

    // -- the web workbench's password ---------------------------------------------------------

    /** @param {WechatMiniprogram.Input} e */
    onPassword(e) {
      this.setData({ password: e.detail.value, passwordError: '' })
    },

    /** @param {WechatMiniprogram.Input} e */
    onCurrentPassword(e) {
      this.setData({ currentPassword: e.detail.value, passwordError: '' })
    },

    async onSavePassword() {
      const { password, currentPassword, passwordSet } = this.data
      if (this.data.savingPassword) return
      if (passwordSet && !currentPassword) {
        this.setData({ passwordError: '请输入当前密码' })
        return
      }
      if (!password) {
        this.setData({ passwordError: '请输入新密码' })
        return
      }
      this.setData({ savingPassword: true, passwordError: '' })
      try {
        const proof = passwordSet ? { current_password: currentPassword } : { wechat_code: await api.wxCode() }
        await api.request('/api/v1/me/password', { method: 'PUT', data: { password, ...proof } })
        this.setData({ password: '', currentPassword: '', passwordSet: true })
        wx.showToast({ title: '密码已设置', icon: 'success' })
      } catch (err) {
        const known = /** @type {any} */ (err)
        if (known instanceof api.ApiError && known.status === 422) this.setData({ passwordError: known.message })
        else api.showError(err)
      } finally {
        this.setData({ savingPassword: false })
      }
    },

    // -- claiming the engineer account ----------------------------------------------------------

    /** @param {WechatMiniprogram.Input} e */
    onInviteCode(e) {
      this.setData({ inviteCode: e.detail.value, claimError: '' })
    },

    async onClaim() {
      const code = this.data.inviteCode.trim()
      if (this.data.claiming) return
      if (!code) {
        this.setData({ claimError: '请输入邀请码' })
        return
      }
      this.setData({ claiming: true, claimError: '' })
      try {
        await api.request('/api/v1/engineer/claim', { method: 'POST', data: { invite_code: code } })
        getApp().globalData.me = null // the roles changed: 我的 reloads them
        this.setData({ inviteCode: '', welcome: true, state: 'loading' })
        wx.showToast({ title: '已激活', icon: 'success' })
        await this.load()
      } catch (err) {
        const known = /** @type {any} */ (err)
        if (known instanceof api.ApiError && known.status >= 400 && known.status < 500) {
          this.setData({ claimError: known.message })
        } else {
          api.showError(err)
        }
      } finally {
        this.setData({ claiming: false })
      }
    },
  },
})

/**
 * The ambassador line: the level while active, else where the user stands.
 * @param {any} answer GET /api/v1/ambassador/me, or null when it failed
 */
function levelText(answer) {
  if (!answer) return ''
  const ambassador = answer.ambassador
  if (ambassador) {
    if (ambassador.status === 'active') return ambassador.level.name
    return `${ambassador.level.name}（${ambassador.status === 'suspended' ? '已暂停' : '已退出'}）`
  }
  if (answer.application && answer.application.status === 'pending') return '申请审核中'
  return '未加入'
}
