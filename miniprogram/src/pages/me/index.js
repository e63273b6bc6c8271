// @ts-check
/**
 * 我的 (a tab page): the resident's avatar and nickname through WeChat's avatar-nickname pattern
 * (a chooseAvatar button → upload → PUT /api/v1/me {avatar}; a type="nickname" input → PUT
 * /api/v1/me {display_name}), the phone number through the getPhoneNumber button (its code →
 * POST /api/v1/me/phone; WeChat confirms the number), and the entries: orders, points with the
 * balance, my coupons, my activities, ambassador, notices with the unread count, notice settings,
 * the address book, and the engineer's 工作台 for users with the engineer role. No logout: login is silent (wx.login), a
 * logged-out resident would be logged in again on the next call.
 */
const api = require('../../utils/api')
const format = require('../../utils/format')
const reloadable = require('../../utils/reloadable')

/** The entries, in order; `engineer: true` ones show only to engineers, `engineer: false` ones only to others. */
const ENTRIES = [
  { key: 'orders', title: '我的订单', url: '/pages/orders/index' },
  { key: 'points', title: '积分', url: '/pages/points/index' },
  { key: 'coupons', title: '我的优惠券', url: '/pages/coupons/index' },
  { key: 'activities', title: '我的活动', url: '/pages/activities/index' },
  { key: 'ambassador', title: '服务代言人', url: '/pages/ambassador/index' },
  { key: 'notifications', title: '消息通知', url: '/pages/notifications/index' },
  { key: 'subscriptions', title: '通知设置', url: '/pages/subscriptions/index' },
  { key: 'products', title: '我的家电', url: '/pages/products/index' },
  { key: 'addresses', title: '我的地址', url: '/pages/addresses/index' },
  { key: 'work', title: '工程师工作台', url: '/pages/work/index', engineer: true },
  // An engineer not yet activated enters the invite code there (the web login page points here).
  { key: 'claim', title: '我是工程师', url: '/pages/work/index', engineer: false },
]

Component({
  behaviors: [reloadable],
  data: {
    state: 'loading',
    /** @type {any} GET /api/v1/me */
    me: null,
    avatar: '',
    nickname: '',
    nicknameError: '',
    phoneText: '',
    savingAvatar: false,
    savingPhone: false,
    /** the nickname being saved (blur and confirm both fire: it is sent once) */
    pendingName: '',
    /** @type {number | null} null until known (a failed balance call shows nothing) */
    balance: null,
    unread: 0,
    /** @type {typeof ENTRIES} */
    entries: [],
  },
  methods: {
    onShow() {
      // Back from the inbox or the points page: their counts may have changed.
      if (this.data.state === 'ready') this.refreshCounts()
    },

    async load() {
      if (this.data.state !== 'ready') this.setData({ state: 'loading' })
      try {
        const [me] = await Promise.all([api.request('/api/v1/me'), this.refreshCounts()])
        this.showMe(me)
        this.setData({ state: 'ready' })
      } catch (err) {
        this.loadFailed(err)
      }
    },

    /** The points balance and the unread count: shown when they load, left out when they fail. */
    async refreshCounts() {
      const [points, inbox] = await Promise.all([
        api.request('/api/v1/me/points').catch(() => null),
        api.request('/api/v1/me/notifications', { data: { limit: 1 } }).catch(() => null),
      ])
      this.setData({
        balance: points ? points.balance : this.data.balance,
        unread: inbox ? inbox.unread_count : this.data.unread,
      })
    },

    /** @param {any} me the UserSchema shape */
    showMe(me) {
      getApp().globalData.me = me
      const engineer = (me.roles || []).includes('engineer')
      this.setData({
        me,
        avatar: api.mediaUrl(me.avatar_url),
        nickname: me.display_name || '',
        phoneText: format.maskPhone(me.phone),
        entries: ENTRIES.filter((e) => e.engineer === undefined || e.engineer === engineer),
      })
    },

    /** WeChat's chooseAvatar: a temporary file, uploaded, then made my avatar. @param {WechatMiniprogram.CustomEvent<{ avatarUrl: string }>} e */
    async onChooseAvatar(e) {
      const path = e.detail && e.detail.avatarUrl
      if (!path || this.data.savingAvatar) return
      const before = this.data.avatar
      this.setData({ avatar: path, savingAvatar: true })
      try {
        const uploaded = await api.upload(path)
        this.showMe(await api.request('/api/v1/me', { method: 'PUT', data: { avatar: uploaded.id } }))
      } catch (err) {
        this.setData({ avatar: before })
        api.showError(err)
      } finally {
        this.setData({ savingAvatar: false })
      }
    },

    /** The nickname input's blur and confirm (both may fire: an unchanged name is not sent). @param {WechatMiniprogram.Input} e */
    async onNickname(e) {
      const name = String((e.detail && e.detail.value) || '').trim()
      const current = (this.data.me && this.data.me.display_name) || ''
      if (!name) {
        this.setData({ nickname: current })
        return
      }
      if (name === current || name === this.data.pendingName) return
      this.setData({ pendingName: name, nickname: name, nicknameError: '' })
      try {
        this.showMe(await api.request('/api/v1/me', { method: 'PUT', data: { display_name: name } }))
      } catch (err) {
        const known = err instanceof api.ApiError ? err : null
        const field = known && known.fields.display_name
        if (known && (known.code === 'content_risky' || field)) {
          this.setData({ nickname: current, nicknameError: field ? field[0] : known.message })
        } else {
          this.setData({ nickname: current })
          api.showError(err)
        }
      } finally {
        this.setData({ pendingName: '' })
      }
    },

    /** The getPhoneNumber button: a code when the user allowed it; a refusal is no error. @param {WechatMiniprogram.CustomEvent<{ code?: string, errMsg?: string }>} e */
    async onPhone(e) {
      const code = e.detail && e.detail.code
      if (!code || this.data.savingPhone) return
      this.setData({ savingPhone: true })
      try {
        this.showMe(await api.request('/api/v1/me/phone', { method: 'POST', data: { code } }))
        wx.showToast({ title: '手机号已绑定', icon: 'success' })
      } catch (err) {
        api.showError(err)
      } finally {
        this.setData({ savingPhone: false })
      }
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onEntry(e) {
      wx.navigateTo({ url: String(e.currentTarget.dataset.url) })
    },
  },
})
