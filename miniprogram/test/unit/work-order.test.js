/** The work-order component on its own: what an order shows in each state, and when it may be called. */
const { load, flush, text } = require('../helpers')
const F = require('./work-fixtures')

test('a cancelled order: the reason, no actions', async () => {
  const card = load('components/work-order/index', { order: F.order(40, 'cancelled', { cancel_reason: '住户计划有变', cancelled_at: '2026-12-04T02:00:00+00:00' }) })
  await flush()
  expect(text(card, '.status')).toBe('已取消')
  expect(card.querySelector('.status').dom.className).toContain('muted')
  expect(text(card, '.cancelled')).toBe('已取消：住户计划有变')
  expect(card.querySelector('.schedule')).toBeUndefined()
  expect(card.querySelector('.complete')).toBeUndefined()
})

test('a masked or missing phone is not called; no contact and no address leave no empty lines', async () => {
  const masked = load('components/work-order/index', { order: F.order(41, 'assigned', { contact_phone: '139****5678', customer_name: null, contact_name: null, address: '' }) })
  await flush()
  expect(text(masked, '.phone')).toBe('139****5678')
  expect(masked.querySelector('.call')).toBeUndefined()
  expect(text(masked, '.name')).toBe('住户')
  expect(masked.querySelector('.contact')).toBeUndefined()
  expect(masked.querySelector('.address')).toBeUndefined()
  expect(masked.querySelector('.estate')).toBeUndefined() // no estate name given
  const none = load('components/work-order/index', { order: F.order(42, 'assigned', { contact_phone: null }), estateName: '翠竹苑' })
  await flush()
  expect(none.querySelector('.phone-row')).toBeUndefined()
  expect(text(none, '.estate')).toBe('翠竹苑')
})

test('an assigned order may be scheduled or completed at once; the schedule form can be put away', async () => {
  const card = load('components/work-order/index', { order: F.order(43, 'assigned') })
  await flush()
  expect(text(card, '.schedule')).toBe('预约上门')
  expect(text(card, '.complete')).toBe('完成服务')
  card.querySelector('.schedule').dispatchEvent('tap')
  await flush()
  expect(card.querySelector('.schedule-form')).toBeTruthy()
  expect(card.data.lastDate > card.data.firstDate).toBe(true)
  card.querySelector('.cancel-schedule').dispatchEvent('tap')
  await flush()
  expect(card.querySelector('.schedule-form')).toBeUndefined()
  expect(mp.requests).toEqual([])
})
