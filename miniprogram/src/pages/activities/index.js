// @ts-check
/**
 * 我的活动 (from 我的): the activities I signed up for (GET /api/v1/me/activities, cursor-paginated),
 * two tabs — 即将参加 (signed up or waitlisted, not yet ended, the soonest first) and 全部 (newest
 * first, cancelled and past ones too) — each with its time, place and my standing (已报名, 候补第
 * N 位, 已签到, 已取消). A tap opens the activity (my attendee code, check-in, cancel).
 */
const format = require('../../utils/format')
const pagedList = require('../../utils/paged-list')

/**
 * An activity with my sign-up as the list shows it.
 * @param {any} a the API's ActivitySchema with `my`
 */
function item(a) {
  const my = a.my || {}
  let mine = my.status_label || ''
  let badge = 'muted'
  if (my.status === 'confirmed') {
    mine = my.checked_in_at ? '已签到' : '已报名'
    badge = 'ok'
  } else if (my.status === 'waitlisted') {
    mine = `候补第 ${my.queue_position} 位`
    badge = 'warn'
  }
  return {
    id: a.id,
    title: a.title,
    time: format.span(a.starts_at, a.ends_at),
    place: a.place,
    mine,
    badge,
    stateLabel: a.state_label,
    over: a.state === 'ended' || a.status === 'cancelled',
  }
}

Component({
  behaviors: [pagedList({ path: '/api/v1/me/activities', shape: item })],
  data: {
    /** upcoming | all */
    tab: 'upcoming',
    /** @type {ReturnType<typeof item>[]} */
    items: [],
  },
  methods: {
    /** Back from an activity: my standing may have changed. */
    onShow() {
      if (this.data.state === 'ready' || this.data.state === 'empty') this.load()
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onTab(e) {
      const tab = String(e.currentTarget.dataset.tab)
      if (tab === this.data.tab) return
      this.setData({ tab, state: 'loading', items: [], cursor: null })
      this.load()
    },

    listQuery() {
      return { tab: this.data.tab }
    },

    listKey() {
      return this.data.tab
    },

    /** @param {WechatMiniprogram.TouchEvent} e */
    onOpen(e) {
      wx.navigateTo({ url: `/pages/activity/index?id=${e.currentTarget.dataset.id}` })
    },
  },
})
