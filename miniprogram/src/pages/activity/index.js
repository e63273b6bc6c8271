// @ts-check
/**
 * One community activity (`?id=`, and `estate_id` when opened from an estate's offers; the
 * day-before reminder and the waitlist notices open it too): photos, time, place, organiser,
 * seats and waitlist, the sign-up deadline, the rewards for taking part, and my sign-up.
 *
 * 报名 (POST /api/v1/activities/{id}/signups, Idempotency-Key) is confirmed while seats are left,
 * else waitlisted — said plainly, with my place in the queue. While confirmed the page shows my
 * attendee code as a QR code it draws itself (components/qr-code: works offline at the venue)
 * and as text, 扫码签到 scans the activity's own code (its check-in token, printed by the
 * organiser) and checks me in, and 取消报名 (DELETE …/signups/me, after a confirmation) frees the
 * seat for the waitlist. 开启活动提醒 asks for the activity notices (the reminder, a promotion).
 */
const api = require('../../utils/api')
const dialog = require('../../utils/dialog')
const form = require('../../utils/form')
const format = require('../../utils/format')
const reloadable = require('../../utils/reloadable')
const subscribe = require('../../utils/subscribe')

/** The activity's check-in token as its QR code carries it (activation.activities: 16 URL-safe characters). */
const TOKEN = /^[A-Za-z0-9_-]{8,64}$/

/**
 * The activity as the page shows it.
 * @param {any} a the API's ActivitySchema
 */
function show(a) {
  const rewards = []
  if (a.points_reward > 0) rewards.push(`${a.points_reward} 积分`)
  if (a.coupon) rewards.push(`优惠券「${a.coupon.name}」${a.coupon.face}`)
  return {
    id: a.id,
    title: a.title,
    description: a.description || '',
    photos: (a.photos || []).map((/** @type {string} */ p) => api.mediaUrl(p)),
    place: a.place,
    time: format.span(a.starts_at, a.ends_at),
    deadline: format.datetime(a.signup_deadline),
    organizer: a.organizer ? `${a.organizer.name}（${a.organizer.kind_label}）` : '',
    state: a.state,
    stateLabel: a.state_label,
    cancelled: a.status === 'cancelled',
    cancelledReason: a.cancelled_reason || '',
    seats: `${a.confirmed}/${a.capacity} 人`,
    left: a.seats_left > 0 ? `剩 ${a.seats_left} 个名额` : `名额已满${a.waitlisted ? `，${a.waitlisted} 人候补` : ''}`,
    full: a.seats_left <= 0,
    signupOpen: a.signup_open,
    started: new Date(a.starts_at).getTime() <= Date.now(),
    over: a.state === 'ended' || a.status === 'cancelled',
    checkinFrom: format.datetime(a.checkin_opens_at),
    rewards: rewards.join('，'),
  }
}

/**
 * My sign-up as the page shows it (a cancelled one: none, I may sign up again).
 * @param {any} my the API's ActivitySignupSchema, or null
 */
function showMine(my) {
  if (!my || my.status === 'cancelled') return null
  return {
    status: my.status,
    statusLabel: my.status_label,
    code: my.code || '',
    codeText: my.code ? `${my.code.slice(0, 4)} ${my.code.slice(4)}` : '',
    position: my.queue_position,
    checkedIn: my.checked_in_at ? format.datetime(my.checked_in_at) : '',
    promoted: Boolean(my.promoted_at),
  }
}

Component({
  behaviors: [reloadable],
  data: {
    state: 'loading',
    errorMessage: '',
    id: 0,
    estateId: 0,
    /** @type {ReturnType<typeof show> | null} */
    activity: null,
    /** @type {ReturnType<typeof showMine>} */
    my: null,
    /** what is being sent: signup | cancel | checkin */
    busy: '',
    /** the Idempotency-Keys of a sign-up and a check-in whose answer was lost */
    key: '',
    checkinKey: '',
    subscribed: false,
  },
  methods: {
    /** @param {Record<string, string | undefined>} options */
    onLoad(options) {
      this.setData({ id: Number(options.id) || 0, estateId: Number(options.estate_id) || 0 })
      this.load()
    },

    async load() {
      try {
        const a = await api.request(`/api/v1/activities/${this.data.id}`)
        this.showActivity(a)
      } catch (err) {
        this.loadFailed(err, { errorMessage: err instanceof api.ApiError && err.status === 404 ? '活动不存在或已下线' : '没有加载到活动' })
      }
    },

    /** @param {any} a */
    showActivity(a) {
      this.setData({ activity: show(a), my: showMine(a.my), state: 'ready' })
      wx.setNavigationBarTitle({ title: '社区活动' })
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onPhoto(e) {
      const photos = this.data.activity ? this.data.activity.photos : []
      wx.previewImage({ urls: photos, current: photos[Number(e.currentTarget.dataset.index)] })
    },

    /** 报名 / 候补报名. */
    async onSignUp() {
      if (this.data.busy) return
      this.setData({ busy: 'signup' })
      try {
        /** @type {Record<string, any>} */
        const body = {}
        if (this.data.estateId) body.estate_id = this.data.estateId
        const result = await form.sendWithKey(this, 'key', `/api/v1/activities/${this.data.id}/signups`, { method: 'POST', data: body })
        this.showActivity(result.activity)
        if (result.signup.status === 'confirmed') {
          wx.showToast({ title: '报名成功', icon: 'success' })
        } else {
          wx.showModal({ title: '已加入候补', showCancel: false, confirmText: '知道了',
            content: `名额已满，您排在候补第 ${result.signup.queue_position} 位。有人取消时会按顺序自动为您补上，并通知您。` })
        }
      } catch (err) {
        api.showError(err)
        if (!form.unanswered(err)) this.load() // closed, cancelled meanwhile: show it as it is now
      } finally {
        this.setData({ busy: '' })
      }
    },

    /** 取消报名 / 取消候补, after a confirmation. */
    async onCancel() {
      const my = this.data.my
      if (this.data.busy || !my) return
      const ok = await dialog.confirm(my.status === 'confirmed'
        ? { title: '取消报名', content: '取消后名额会让给候补的邻居，再报名需要重新排队。', confirmText: '取消报名', cancelText: '保留' }
        : { title: '取消候补', content: '取消后您将退出候补队列。', confirmText: '取消候补', cancelText: '保留' })
      if (!ok) return
      this.setData({ busy: 'cancel' })
      try {
        await api.request(`/api/v1/activities/${this.data.id}/signups/me`, { method: 'DELETE' })
        wx.showToast({ title: '已取消报名', icon: 'none' })
        await this.load()
      } catch (err) {
        api.showError(err)
      } finally {
        this.setData({ busy: '' })
      }
    },

    /** 扫码签到: scan the activity's code at the venue, then check in with its token. */
    async onScan() {
      if (this.data.busy) return
      /** @type {string | null} */
      const scanned = await new Promise((resolve) => {
        wx.scanCode({ onlyFromCamera: true, scanType: ['qrCode'], success: (res) => resolve(res.result), fail: () => resolve(null) })
      })
      if (scanned === null) return
      const token = scanned.trim()
      if (!TOKEN.test(token)) {
        wx.showToast({ title: '这不是活动签到码，请扫描现场的活动二维码', icon: 'none' })
        return
      }
      this.setData({ busy: 'checkin' })
      try {
        const result = await form.sendWithKey(this, 'checkinKey', `/api/v1/activities/${this.data.id}/check-ins`,
          { method: 'POST', data: { token } })
        const got = []
        if (result.reward && result.reward.points) got.push(`${result.reward.points} 积分`)
        if (result.reward && result.reward.coupon) got.push(`优惠券「${result.reward.coupon.name}」`)
        wx.showModal({
          title: result.first ? '签到成功' : '您已签到过', showCancel: false, confirmText: '好的',
          content: `${result.first ? '' : `签到时间：${format.datetime(result.attendee.checked_in_at)}。`}${got.length ? `参加奖励：${got.join('，')}。` : '欢迎参加活动！'}`,
        })
        await this.load()
      } catch (err) {
        api.showError(err)
      } finally {
        this.setData({ busy: '' })
      }
    },

    /** 开启活动提醒 (from the tap, as WeChat requires). */
    onSubscribe() {
      return subscribe.offer(this, ['activity'], () => '已开启活动提醒')
    },
  },
})
