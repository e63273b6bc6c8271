// @ts-check
/**
 * An order's steps as a vertical timeline: requested → assigned → scheduled → completed, or the
 * steps it reached and then cancelled, each with its time as the API gives it (the appointment
 * for the scheduled step). Steps not reached yet are shown grey.
 */
const format = require('../../utils/format')

const ORDER = ['requested', 'assigned', 'scheduled', 'completed']

/**
 * @typedef {{ key: string, label: string, time: string, detail: string, done: boolean, current: boolean }} Step
 * @param {any} order the API's service order
 * @returns {Step[]}
 */
function stepsOf(order) {
  const o = order || {}
  const engineer = o.engineer ? `${o.engineer.name}师傅` : ''
  /** @type {Step[]} */
  const all = [
    { key: 'requested', label: '提交申请', time: format.datetime(o.requested_at), detail: '', done: false, current: false },
    { key: 'assigned', label: '已派单', time: format.datetime(o.assigned_at), detail: engineer ? `${engineer}为您服务` : '', done: false, current: false },
    { key: 'scheduled', label: '已预约上门', time: '', detail: o.scheduled_for ? `上门时间 ${format.datetime(o.scheduled_for)}` : '', done: false, current: false },
    { key: 'completed', label: '服务完成', time: format.datetime(o.completed_at), detail: '', done: false, current: false },
  ]
  let steps
  if (o.status === 'cancelled') {
    // the steps it reached, then the cancellation
    steps = all.filter((s) => s.key === 'requested' || (s.key === 'assigned' && o.assigned_at) || (s.key === 'scheduled' && o.scheduled_for))
    steps.forEach((s) => { s.done = true })
    steps.push({ key: 'cancelled', label: '已取消', time: format.datetime(o.cancelled_at), detail: o.cancel_reason ? `原因：${o.cancel_reason}` : '', done: true, current: false })
  } else {
    const reached = ORDER.indexOf(o.status)
    steps = all
    steps.forEach((s, i) => { s.done = i <= reached })
  }
  const last = steps.filter((s) => s.done).pop()
  if (last) last.current = true
  return steps
}

Component({
  options: { styleIsolation: 'apply-shared' },
  properties: {
    order: { type: Object, value: {} },
  },
  data: {
    /** @type {Step[]} */
    steps: [],
  },
  observers: {
    /** @param {any} order */
    order(order) {
      this.setData({ steps: stepsOf(order) })
    },
  },
  methods: {},
})
