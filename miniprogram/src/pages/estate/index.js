// @ts-check
/**
 * The 小区 tab: the estate the resident is looking at (getApp().globalData.estateId, else the
 * first of their estates; a visit notice opens it with `?id=&tab=visits`) with four tabs — 动态
 * (the feed: questions with their accepted answer, photos, announcements, shared reviews; like,
 * cursor pagination, pull-down refresh), 工程师 (the estate's ranking), 上门预告 (announced
 * visits: book a free slot, cancel one's own booking) and 优惠活动 (the estate's live offers,
 * 千区千面: claim a coupon, sign up for an activity, a reward to redeem, a partner's service; an
 * offer notice opens it with `?id=&tab=offers`, or through globalData.estateTab when it comes by
 * switchTab, which carries no query). 提问 opens the question form.
 */
const api = require('../../utils/api')
const dialog = require('../../utils/dialog')
const form = require('../../utils/form')
const format = require('../../utils/format')

const TABS = ['feed', 'engineers', 'visits', 'offers']
const PAGE_SIZE = 20
/** What a booked visit is for (the server's SERVICE_TYPES), in the order the sheet shows them. */
const SERVICE_TYPES = [['repair', '维修'], ['maintenance', '保养'], ['install', '安装'], ['cleaning', '清洗'],
  ['inspection', '检测'], ['other', '其他']]
/** WeChat's action sheet holds at most 6 items: 5 estates and 加入其他小区. */
const SHEET_ESTATES = 5
const CANCEL_REASON = '住户取消预约'

/** @param {unknown} err */
const messageOf = (err) => (err instanceof api.ApiError ? err.message : '出错了，请重试')

/**
 * wx.showActionSheet as a promise of the tapped index (-1: cancelled).
 * @param {string[]} itemList
 * @returns {Promise<number>}
 */
function actionSheet(itemList) {
  return new Promise((resolve) => {
    wx.showActionSheet({ itemList, success: (res) => resolve(res.tapIndex), fail: () => resolve(-1) })
  })
}

/**
 * A visit announcement as the tab shows it: the day in words, each slot's time and what can be done.
 * @param {any} visit the API's {id, day, note, engineer, slots}
 * @param {number} now
 */
function showVisit(visit, now) {
  return {
    id: visit.id,
    dayLabel: format.day(visit.day),
    note: visit.note,
    engineer: visit.engineer,
    slots: visit.slots.map((/** @type {any} */ slot) => ({
      id: slot.id,
      orderId: slot.order_id,
      time: `${format.datetime(slot.starts_at, { date: false })}–${format.datetime(slot.ends_at, { date: false })}`,
      status: slot.mine ? 'mine' : new Date(slot.starts_at).getTime() <= now ? 'past' : slot.available ? 'free' : 'taken',
    })),
  }
}

/**
 * An offer as the 优惠活动 tab shows it: what it is and the one thing to do with it.
 * @param {any} o the API's EstateOfferSchema
 */
function showOffer(o) {
  const base = { id: o.id, kind: o.kind, kindLabel: o.kind_label, title: o.title, summary: o.summary,
    until: o.ends_at ? `${format.datetime(o.ends_at)} 结束` : '' }
  if (o.coupon) {
    const c = o.coupon
    const action = c.can_claim ? 'claim' : c.held ? 'held' : c.remaining === 0 ? 'out' : 'closed'
    return { ...base, templateId: c.id, face: c.face, name: c.name, terms: c.terms.slice(1).join(' · '), action,
      actionText: { claim: '领取', held: '已领取', out: '已领完', closed: '不可领取' }[action] }
  }
  if (o.activity) {
    const a = o.activity
    const my = a.my && ['confirmed', 'waitlisted'].includes(a.my.status) ? a.my : null
    const action = my ? (my.status === 'confirmed' ? 'mine' : 'waiting')
      : a.status === 'cancelled' ? 'cancelled' : a.signup_open ? 'signup' : 'closed'
    return { ...base, activityId: a.id, time: format.span(a.starts_at, a.ends_at), place: a.place, action,
      seats: a.seats_left > 0 ? `剩 ${a.seats_left} 个名额` : `名额已满${a.waitlisted ? `，${a.waitlisted} 人候补` : ''}`,
      actionText: my ? (my.status === 'confirmed' ? '已报名' : `候补第 ${my.queue_position} 位`)
        : { cancelled: '已取消', signup: a.seats_left > 0 ? '报名' : '候补报名', closed: '报名已截止' }[action] }
  }
  if (o.reward) {
    return { ...base, cost: `${o.reward.cost} 积分`, action: 'reward', actionText: '去兑换' }
  }
  const l = o.listing || {}
  const price = l.kind === 'service' ? (l.price_fen == null ? '价格面议' : `${format.yuan(l.price_fen)}${l.price_note || ''}`) : ''
  return { ...base, listingId: l.id, partner: l.partner ? l.partner.name : '', price, action: 'listing', actionText: '了解详情' }
}

Component({
  data: {
    /** the estate: loading | ready | empty (no estate) | error */
    state: 'loading',
    errorMessage: '',
    /** @type {any} GET /api/v1/estates/{id} */
    estate: {},
    /** @type {any[]} my estates (the 切换 sheet) */
    estates: [],
    tab: 'feed',
    /** the feed: loading | ready | empty | error */
    feedState: 'loading',
    feedError: '',
    /** @type {any[]} */
    feedItems: [],
    /** @type {string | null} */
    feedNext: null,
    feedMore: false,
    engineersState: 'loading',
    engineersError: '',
    /** @type {any[]} */
    engineers: [],
    windowDays: 90,
    visitsState: 'loading',
    visitsError: '',
    /** @type {any[]} */
    visits: [],
    /** the slot being booked or cancelled */
    busySlot: 0,
    /** the offers: loading | ready | empty | error */
    offersState: 'loading',
    offersError: '',
    /** @type {any[]} showOffer's, one shape per kind */
    offers: [],
    /** @type {string | null} */
    offersNext: null,
    offersMore: false,
    /** the offer being acted on (claim, sign-up) */
    busyOffer: 0,
    /** @type {Record<string, string>} the Idempotency-Key of a claim or sign-up whose answer was lost, by offer id */
    offerKeys: {},
  },
  methods: {
    /** @param {Record<string, string | undefined>} options */
    onLoad(options) {
      const app = getApp().globalData
      const id = Number(options.id || options.estate_id || 0)
      if (id) app.estateId = id
      const tab = options.tab || app.estateTab
      app.estateTab = ''
      if (tab && TABS.includes(tab)) this.setData({ tab })
      this.load()
    },

    onShow() {
      const app = getApp().globalData
      const tab = app.estateTab
      app.estateTab = ''
      if (tab && TABS.includes(tab) && tab !== this.data.tab) this.setData({ tab }) // a notice opened a tab
      if (this.data.state !== 'ready') return
      if (app.estateId && app.estateId !== this.data.estate.id) {
        this.load()
      } else if (tab && TABS.includes(tab)) {
        this.loadTab(tab)
      } else if (app.feedStale) { // a question was asked meanwhile
        app.feedStale = false
        this.loadFeed(true)
      }
    },

    /** The estate (and my estates), then the open tab. */
    async load() {
      this.setData({ state: 'loading' })
      const app = getApp().globalData
      try {
        const wanted = app.estateId
        const [mine, given] = await Promise.all([
          api.request('/api/v1/me/estates'),
          wanted ? api.request(`/api/v1/estates/${wanted}`) : Promise.resolve(null),
        ])
        const estates = mine.items.map((/** @type {any} */ r) => r.estate)
        const estate = given || (estates.length ? await api.request(`/api/v1/estates/${estates[0].id}`) : null)
        if (!estate) {
          this.setData({ state: 'empty', estates })
          return
        }
        app.estateId = estate.id
        this.setData({
          state: 'ready', estate, estates,
          feedState: 'loading', feedItems: [], feedNext: null, engineersState: 'loading', visitsState: 'loading',
          offersState: 'loading', offers: [], offersNext: null,
        })
        wx.setNavigationBarTitle({ title: estate.name })
        await this.loadTab(this.data.tab)
      } catch (err) {
        this.setData({ state: 'error', errorMessage: messageOf(err) })
      }
    },

    /** @param {string} tab */
    loadTab(tab) {
      if (tab === 'engineers') return this.loadEngineers()
      if (tab === 'visits') return this.loadVisits()
      if (tab === 'offers') return this.loadOffers(true)
      return this.loadFeed(true)
    },

    /** @param {boolean} reset from the top (else the next page) */
    async loadFeed(reset) {
      if (!reset && (!this.data.feedNext || this.data.feedMore)) return
      /** @type {Record<string, any>} */
      const query = { limit: PAGE_SIZE }
      if (!reset) query.cursor = this.data.feedNext
      if (reset && !this.data.feedItems.length) this.setData({ feedState: 'loading' })
      this.setData({ feedMore: !reset })
      try {
        const page = await api.request(`/api/v1/estates/${this.data.estate.id}/feed`, { data: query })
        const items = reset ? page.items : [...this.data.feedItems, ...page.items]
        this.setData({ feedItems: items, feedNext: page.next_cursor, feedState: items.length ? 'ready' : 'empty' })
      } catch (err) {
        if (reset) this.setData({ feedState: 'error', feedError: messageOf(err) })
        else api.showError(err)
      } finally {
        this.setData({ feedMore: false })
      }
    },

    async loadEngineers() {
      if (!this.data.engineers.length) this.setData({ engineersState: 'loading' })
      try {
        const ranking = await api.request(`/api/v1/estates/${this.data.estate.id}/engineers`)
        this.setData({ engineers: ranking.items, windowDays: ranking.window_days,
          engineersState: ranking.items.length ? 'ready' : 'empty' })
      } catch (err) {
        this.setData({ engineersState: 'error', engineersError: messageOf(err) })
      }
    },

    async loadVisits() {
      if (!this.data.visits.length) this.setData({ visitsState: 'loading' })
      try {
        const visits = await api.request(`/api/v1/estates/${this.data.estate.id}/visits`)
        const now = Date.now()
        const shown = visits.items.map((/** @type {any} */ v) => showVisit(v, now))
        this.setData({ visits: shown, visitsState: shown.length ? 'ready' : 'empty' })
      } catch (err) {
        this.setData({ visitsState: 'error', visitsError: messageOf(err) })
      }
    },

    /** @param {boolean} reset from the top (else the next page) */
    async loadOffers(reset) {
      if (!reset && (!this.data.offersNext || this.data.offersMore)) return
      const estateId = this.data.estate.id
      /** @type {Record<string, any>} */
      const query = { limit: PAGE_SIZE }
      if (!reset) query.cursor = this.data.offersNext
      if (reset && !this.data.offers.length) this.setData({ offersState: 'loading' })
      this.setData({ offersMore: !reset })
      try {
        const page = await api.request(`/api/v1/estates/${estateId}/offers`, { data: query })
        if (estateId !== this.data.estate.id) return // switched estates meanwhile
        const items = [...(reset ? [] : this.data.offers), ...page.items.map(showOffer)]
        this.setData({ offers: items, offersNext: page.next_cursor, offersState: items.length ? 'ready' : 'empty' })
      } catch (err) {
        if (reset && !this.data.offers.length) this.setData({ offersState: 'error', offersError: messageOf(err) })
        else api.showError(err)
      } finally {
        this.setData({ offersMore: false })
      }
    },

    /** One offer again after acting on it (GET /api/v1/offers/{id}); gone (ended meanwhile): out of the list. @param {number} offerId */
    async refreshOffer(offerId) {
      try {
        const fresh = await api.request(`/api/v1/offers/${offerId}`, { data: { estate_id: this.data.estate.id } })
        const index = this.data.offers.findIndex((o) => o.id === offerId)
        if (index >= 0) this.setData({ [`offers[${index}]`]: showOffer(fresh) })
      } catch (err) {
        if (err instanceof api.ApiError && err.status === 404) {
          const offers = this.data.offers.filter((o) => o.id !== offerId)
          this.setData({ offers, offersState: offers.length ? 'ready' : 'empty' })
        }
      }
    },

    /** 领取: claim the offered coupon in this estate (Idempotency-Key kept for a retry). @param {WechatMiniprogram.TouchEvent} e */
    async onClaim(e) {
      const offerId = Number(e.currentTarget.dataset.id)
      const offer = this.data.offers.find((o) => o.id === offerId)
      if (!offer || this.data.busyOffer) return
      this.setData({ busyOffer: offerId })
      try {
        await form.sendWithKey(this, `offerKeys.${offerId}`, `/api/v1/coupon-templates/${offer.templateId}/claim`,
          { method: 'POST', data: { estate_id: this.data.estate.id } })
        wx.showToast({ title: '领取成功，已放入我的优惠券', icon: 'none' })
        await this.refreshOffer(offerId)
      } catch (err) {
        api.showError(err)
        if (!form.unanswered(err)) await this.refreshOffer(offerId) // out of stock, at the limit: the offer says so now
      } finally {
        this.setData({ busyOffer: 0 })
      }
    },

    /** 报名 an offered activity from the list: confirmed, or on the waitlist (said with the position). @param {WechatMiniprogram.TouchEvent} e */
    async onSignUp(e) {
      const offerId = Number(e.currentTarget.dataset.id)
      const offer = this.data.offers.find((o) => o.id === offerId)
      if (!offer || this.data.busyOffer) return
      this.setData({ busyOffer: offerId })
      try {
        const result = await form.sendWithKey(this, `offerKeys.${offerId}`, `/api/v1/activities/${offer.activityId}/signups`,
          { method: 'POST', data: { estate_id: this.data.estate.id } })
        if (result.signup.status === 'confirmed') {
          wx.showToast({ title: '报名成功', icon: 'success' })
        } else {
          wx.showModal({ title: '已加入候补', showCancel: false, confirmText: '知道了',
            content: `名额已满，您排在候补第 ${result.signup.queue_position} 位。有人取消时会按顺序自动为您补上，并通知您。` })
        }
        await this.refreshOffer(offerId)
      } catch (err) {
        api.showError(err)
        if (!form.unanswered(err)) await this.refreshOffer(offerId)
      } finally {
        this.setData({ busyOffer: 0 })
      }
    },

    /** An offer's card: the activity, the partner's listing, the rewards, my coupons. @param {WechatMiniprogram.TouchEvent} e */
    onOpenOffer(e) {
      const offer = this.data.offers.find((o) => o.id === Number(e.currentTarget.dataset.id))
      if (!offer) return
      if (offer.kind === 'activity') wx.navigateTo({ url: `/pages/activity/index?id=${offer.activityId}&estate_id=${this.data.estate.id}` })
      else if (offer.kind === 'reward') wx.navigateTo({ url: '/pages/rewards/index' })
      else if (offer.action === 'listing') wx.navigateTo({ url: `/pages/listing/index?id=${offer.listingId}` })
      else if (offer.action === 'held') wx.navigateTo({ url: '/pages/coupons/index' })
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onTab(e) {
      const tab = String(e.currentTarget.dataset.tab)
      if (tab === this.data.tab) return
      this.setData({ tab })
      const loaded = { feed: this.data.feedState, engineers: this.data.engineersState, visits: this.data.visitsState,
        offers: this.data.offersState }
      if (loaded[/** @type {keyof typeof loaded} */ (tab)] !== 'ready') this.loadTab(tab)
    },

    async onPullDownRefresh() {
      try {
        if (this.data.state !== 'ready') await this.load()
        else await this.loadTab(this.data.tab)
      } finally {
        wx.stopPullDownRefresh()
      }
    },

    onReachBottom() {
      if (this.data.state === 'ready' && this.data.tab === 'feed') this.loadFeed(false)
      if (this.data.state === 'ready' && this.data.tab === 'offers') this.loadOffers(false)
    },

    onRetry() {
      this.load()
    },

    onRetryTab() {
      this.loadTab(this.data.tab)
    },

    onFindEstate() {
      wx.navigateTo({ url: '/pages/estates/index' })
    },

    /** 切换: my estates in a sheet, and 加入其他小区. */
    async onSwitch() {
      const estates = this.data.estates.slice(0, SHEET_ESTATES)
      const index = await actionSheet([...estates.map((/** @type {any} */ e) => e.name), '加入其他小区'])
      if (index < 0) return
      if (index === estates.length) {
        wx.navigateTo({ url: '/pages/estates/index' })
        return
      }
      if (estates[index].id === this.data.estate.id) return
      getApp().globalData.estateId = estates[index].id
      this.load()
    },

    onAsk() {
      const estate = this.data.estate
      wx.navigateTo({ url: `/pages/ask/index?estate_id=${estate.id}&name=${encodeURIComponent(estate.name)}` })
    },

    /** @param {WechatMiniprogram.CustomEvent<{ id: number, liked: boolean }>} e */
    async onLike(e) {
      const { id, liked } = e.detail
      const index = this.data.feedItems.findIndex((p) => p.id === id)
      if (index < 0) return
      try {
        const result = await api.request(`/api/v1/posts/${id}/like`, { method: liked ? 'DELETE' : 'POST' })
        this.setData({ [`feedItems[${index}].liked`]: result.liked, [`feedItems[${index}].likes_count`]: result.likes_count })
      } catch (err) {
        api.showError(err)
      }
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onEngineer(e) {
      wx.navigateTo({ url: `/pages/engineer/index?id=${e.currentTarget.dataset.id}` })
    },

    /** A free slot: what the visit is for, then the booking. @param {WechatMiniprogram.TouchEvent} e */
    async onBook(e) {
      const slotId = Number(e.currentTarget.dataset.id)
      if (this.data.busySlot) return
      const index = await actionSheet(SERVICE_TYPES.map(([, label]) => label))
      if (index < 0) return
      this.setData({ busySlot: slotId })
      try {
        await api.request(`/api/v1/visit-slots/${slotId}/book`, { method: 'POST', data: { service_type: SERVICE_TYPES[index][0] } })
        wx.showToast({ title: '预约成功', icon: 'success' })
        await this.loadVisits()
      } catch (err) {
        api.showError(err)
        if (err instanceof api.ApiError && err.status === 409) await this.loadVisits() // taken or past meanwhile
      } finally {
        this.setData({ busySlot: 0 })
      }
    },

    /** My booking: cancelling its order frees the slot. @param {WechatMiniprogram.TouchEvent} e */
    async onCancelBooking(e) {
      const slotId = Number(e.currentTarget.dataset.id)
      const orderId = Number(e.currentTarget.dataset.order)
      if (this.data.busySlot || !orderId) return
      const confirmed = await dialog.confirm({
        title: '取消预约', content: '取消后该时段会开放给其他邻居预约。', confirmText: '取消预约', cancelText: '保留',
      })
      if (!confirmed) return
      this.setData({ busySlot: slotId })
      try {
        await api.request(`/api/v1/service-orders/${orderId}/cancel`, { method: 'POST', data: { reason: CANCEL_REASON } })
        wx.showToast({ title: '已取消预约', icon: 'success' })
        await this.loadVisits()
      } catch (err) {
        api.showError(err)
      } finally {
        this.setData({ busySlot: 0 })
      }
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onOrder(e) {
      wx.navigateTo({ url: `/pages/order/index?id=${e.currentTarget.dataset.order}` })
    },
  },
})
