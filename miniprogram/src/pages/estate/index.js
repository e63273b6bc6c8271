// @ts-check
/**
 * The 小区 tab: the estate the resident is looking at (getApp().globalData.estateId, else the
 * first of their estates; a visit notice opens it with `?id=&tab=visits`) with three tabs — 动态
 * (the feed: questions with their accepted answer, photos, announcements, shared reviews; like,
 * cursor pagination, pull-down refresh), 工程师 (the estate's ranking) and 上门预告 (announced
 * visits: book a free slot, cancel one's own booking). 提问 opens the question form.
 */
const api = require('../../utils/api')
const dialog = require('../../utils/dialog')
const format = require('../../utils/format')

const TABS = ['feed', 'engineers', 'visits']
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
  },
  methods: {
    /** @param {Record<string, string | undefined>} options */
    onLoad(options) {
      const id = Number(options.id || options.estate_id || 0)
      if (id) getApp().globalData.estateId = id
      if (options.tab && TABS.includes(options.tab)) this.setData({ tab: options.tab })
      this.load()
    },

    onShow() {
      const app = getApp().globalData
      if (this.data.state !== 'ready') return
      if (app.estateId && app.estateId !== this.data.estate.id) {
        this.load()
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

    /** @param {WechatMiniprogram.TouchEvent} e */
    onTab(e) {
      const tab = String(e.currentTarget.dataset.tab)
      if (tab === this.data.tab) return
      this.setData({ tab })
      const loaded = { feed: this.data.feedState, engineers: this.data.engineersState, visits: this.data.visitsState }
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
