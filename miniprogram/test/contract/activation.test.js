/**
 * Estate activation against the real server: an admin offers a coupon and an activity to an estate
 * (the admin API); a resident of it sees both on the estate's 优惠活动, claims the coupon and finds
 * it in 我的优惠券, uses it on a service request (held for the order), signs up for the activity
 * (confirmed, with an attendee code drawn as a QR code), sees it in 我的活动, and cancels.
 */
const { load, waitFor, text, tap, flush } = require('../helpers')
const backend = require('./backend')

test('a resident claims an offered coupon, uses it on a request, signs up for an offered activity and cancels', async () => {
  const estate = await backend.estateAt(22.54, 113.93)
  mp.openid = `o_activation_${backend.unique()}`
  const token = await backend.wechatLogin(mp.openid)
  await backend.call('POST', '/api/v1/me/estates', { estate_id: estate.id }, token)
  const address = await backend.call('POST', '/api/v1/me/addresses', { estate_id: estate.id, building: '3', unit: '2', room: '1201',
    contact_name: '陈小明', contact_phone: '13812345678' }, token)
  const template = await backend.couponTemplate({ name: '清洗立减券', amount_fen: 2000, min_spend_fen: 10000, service_types: ['cleaning'] })
  const couponOffer = await backend.liveOffer('coupon', template.id, { estate_ids: [estate.id] })
  const act = await backend.activity([estate.id], { title: '社区义诊', place: '小区会所二楼', capacity: 2 })
  const activityOffer = await backend.liveOffer('activity', act.id, { estate_ids: [estate.id] })

  // 小区 › 优惠活动 (as an offer notice opens it): both offers, newest first
  const estatePage = load('pages/estate/index')
  estatePage.instance.onLoad({ id: String(estate.id), tab: 'offers' })
  await waitFor(() => estatePage.data.offersState !== 'loading', { what: 'the offers' })
  expect(estatePage.data.offers.map((o) => o.id)).toEqual([activityOffer.id, couponOffer.id])
  const couponCard = `.offer-${couponOffer.id}`
  const activityCard = `.offer-${activityOffer.id}`
  expect(text(estatePage, `${couponCard} .face`)).toBe('满100减20')
  expect(text(estatePage, `${couponCard} .offer-title`)).toBe('清洗立减券')
  expect(text(estatePage, `${activityCard} .offer-title`)).toBe('社区义诊')
  expect(text(estatePage, `${activityCard} .place`)).toBe('地点：小区会所二楼')
  expect(text(estatePage, `${activityCard} .seats`)).toBe('剩 2 个名额')

  // 领取: the coupon is mine, the offer says so
  await tap(estatePage, `${couponCard} .claim`)
  await waitFor(() => text(estatePage, `${couponCard} .claim-state`) === '已领取', { what: 'the claim' })
  const claim = mp.requests.find((r) => r.method === 'POST' && r.path === `/api/v1/coupon-templates/${template.id}/claim`)
  expect(claim.header['Idempotency-Key']).toBeTruthy()

  // 我的优惠券: the coupon with its terms
  const coupons = load('pages/coupons/index')
  coupons.instance.onLoad({})
  await waitFor(() => coupons.data.state !== 'loading', { what: 'my coupons' })
  expect(coupons.data.items).toHaveLength(1)
  const mine = coupons.data.items[0]
  expect([mine.face, mine.name, mine.statusLabel]).toEqual(['满100减20', '清洗立减券', '可使用'])
  expect(mine.terms).toEqual(['减 20 元', '订单满 100 元可用', '限清洗服务使用'])
  expect(mine.code).toMatch(/^[2-9A-Z]{12}$/)

  // a cleaning request offers it; sent with the request, the server holds it for the order
  const form = load('pages/request/index')
  form.instance.onLoad({ estate_id: String(estate.id) })
  await waitFor(() => form.data.state !== 'loading', { what: 'the request form' })
  expect(form.data.addressId).toBe(address.id)
  form.querySelector('.type-picker').dispatchEvent('change', { detail: { value: '0' } }) // 维修: the coupon is for cleaning only
  await waitFor(() => form.data.couponsFor === 'repair', { what: 'the coupons for repair' })
  expect(form.data.coupons).toEqual([])
  form.querySelector('.type-picker').dispatchEvent('change', { detail: { value: '3' } }) // 清洗
  await waitFor(() => form.data.coupons.length === 1, { what: 'the coupons for cleaning' })
  await tap(form, `.coupon-${mine.id}`)
  await tap(form, '.submit')
  await waitFor(() => mp.called('redirectTo').length > 0, { what: 'the new order' })
  const orderId = Number(/id=(\d+)/.exec(mp.called('redirectTo')[0].url)[1])
  const held = await backend.call('GET', `/api/v1/me/coupons/${mine.id}`, undefined, token)
  expect([held.status, held.locked_order_id]).toEqual(['locked', orderId])

  // the activity: 报名 is confirmed, my attendee code shows as a QR code
  const page = load('pages/activity/index')
  page.instance.onLoad({ id: String(act.id), estate_id: String(estate.id) })
  await waitFor(() => page.data.state !== 'loading', { what: 'the activity' })
  expect(text(page, '.place .value')).toBe('小区会所二楼')
  expect(text(page, '.seats .value')).toBe('0/2 人 · 剩 2 个名额')
  await tap(page, '.signup')
  await waitFor(() => page.data.my !== null, { what: 'the sign-up' })
  expect(mp.called('showToast').pop().title).toBe('报名成功')
  expect(text(page, '.my-status')).toBe('已报名')
  const signup = await backend.call('GET', `/api/v1/activities/${act.id}/signups/me`, undefined, token)
  expect([signup.status, signup.estate_id]).toEqual(['confirmed', estate.id])
  expect(page.data.my.code).toBe(signup.code)
  expect(page.querySelector('.attendee-qr').instance.data.rows).toHaveLength(21)
  expect(text(page, '.seats .value')).toBe('1/2 人 · 剩 1 个名额')

  // 我的活动 lists it
  const list = load('pages/activities/index')
  list.instance.onLoad({})
  await waitFor(() => list.data.state !== 'loading', { what: 'my activities' })
  expect(list.data.items.map((a) => [a.id, a.mine])).toEqual([[act.id, '已报名']])

  // 取消报名, after the confirmation: the seat is free again
  mp.modalConfirm = true
  await tap(page, '.cancel')
  await waitFor(() => page.data.my === null && page.data.busy === '', { what: 'the cancellation' })
  await flush()
  expect(text(page, '.signup')).toBe('报名')
  expect(text(page, '.seats .value')).toBe('0/2 人 · 剩 2 个名额')
  const after = await backend.call('GET', `/api/v1/activities/${act.id}/signups/me`, undefined, token)
  expect(after.status).toBe('cancelled')
})
