/**
 * Request a service, the engineer completes it, review (against the real server): a resident
 * bound to an engineer asks through the request page; the engineer schedules and completes it
 * through the engineer API; the order page shows 已完成 and takes the review; the engineer's
 * public page shows it with the reviewer's name masked.
 */
const { load, waitFor, text, tap, flush } = require('../helpers')
const backend = require('./backend')

/** A resident bound to the engineer by scanning their code (as mp.openid, the pages' WeChat user), with a name and an address. */
async function boundResident(estate, engineerToken) {
  const code = await backend.call('POST', '/api/v1/engineer/binding-codes', { estate_id: estate.id }, engineerToken)
  mp.openid = `o_resident_${backend.unique()}`
  const { code: wxCode } = await backend.wechat('_fake/codes', { openid: mp.openid })
  const bound = await backend.call('POST', '/api/v1/bindings', { code: wxCode, scene: code.scene })
  await backend.call('PUT', '/api/v1/me', { display_name: '陈小明' }, bound.token)
  const address = await backend.call('POST', '/api/v1/me/addresses', { estate_id: estate.id, building: '3', unit: '2', room: '1201',
    contact_name: '陈小明', contact_phone: '13812345678' }, bound.token)
  return { token: bound.token, address }
}

test('request a service, the engineer completes it, review', async () => {
  const { estate, engineer, token: engineerToken } = await backend.estateWithEngineer('赵建国')
  const resident = await boundResident(estate, engineerToken)

  // the request page, from the steward's card: the engineer named, the address and its phone chosen
  const form = load('pages/request/index')
  form.instance.onLoad({ estate_id: String(estate.id), engineer_id: String(engineer.id) })
  await waitFor(() => form.data.state !== 'loading', { what: 'the request form' })
  expect(form.data.state).toBe('ready')
  expect(text(form, '.engineer >>> .name')).toBe('赵建国师傅')
  expect(text(form, '.engineer >>> .note')).toBe('您的管家')
  expect(form.data.addressId).toBe(resident.address.id)
  expect(form.data.contactPhone).toBe('13812345678')
  form.querySelector('.type-picker').dispatchEvent('change', { detail: { value: '0' } })
  form.instance.onDescription({ detail: { value: '客厅空调不制冷' } })
  await tap(form, '.submit')
  await waitFor(() => mp.called('redirectTo').length > 0, { what: 'the new order' })
  const url = mp.called('redirectTo')[0].url
  expect(url).toMatch(/^\/pages\/order\/index\?id=\d+&created=1$/)
  const orderId = Number(/id=(\d+)/.exec(url)[1])
  const sent = mp.requests.find((r) => r.method === 'POST' && r.path === '/api/v1/service-requests')
  expect(sent.header['Idempotency-Key']).toBeTruthy()

  // the engineer's side: the order is theirs, with the resident's full phone; they schedule and complete it
  const theirs = await backend.call('GET', '/api/v1/engineer/service-orders', undefined, engineerToken)
  const mine = theirs.items.find((o) => o.id === orderId)
  expect([mine.status, mine.service_type, mine.description, mine.contact_phone, mine.address]).toEqual([
    'assigned', 'repair', '客厅空调不制冷', '13812345678', resident.address.text])
  const soon = new Date(Date.now() + 2 * 3600 * 1000).toISOString()
  await backend.call('POST', `/api/v1/engineer/service-orders/${orderId}/schedule`, { scheduled_for: soon }, engineerToken)
  await backend.call('POST', `/api/v1/engineer/service-orders/${orderId}/complete`, undefined, engineerToken)

  // the resident's order page: 已完成, then the review with stars and text
  const page = load('pages/order/index')
  page.instance.onLoad({ id: String(orderId) })
  await waitFor(() => page.data.state !== 'loading', { what: 'the order' })
  expect(text(page, '.status')).toBe('已完成')
  expect(text(page, '.timeline >>> .current .label')).toBe('服务完成')
  expect(text(page, '.engineer >>> .name')).toBe('赵建国师傅')
  expect(text(page, '.address')).toBe(resident.address.text)
  page.querySelectorAll('.rating >>> .star')[4].dispatchEvent('tap')
  page.instance.onReviewText({ detail: { value: '准时上门，修得很快' } })
  await flush()
  await tap(page, '.submit-review')
  await waitFor(() => page.data.review !== null, { what: 'the review' })
  expect(text(page, '.review-text')).toBe('准时上门，修得很快')
  expect(page.querySelector('.review-stars').instance.data.value).toBe(5)
  expect(text(page, '.review-note')).toBe('感谢评价，获得 10 积分')

  // shared once to the estate feed; the page remembers it when opened again
  await tap(page, '.share')
  await waitFor(() => page.data.shared, { what: 'the share' })
  const feed = await backend.call('GET', `/api/v1/estates/${estate.id}/feed`, undefined, resident.token)
  expect(feed.items.filter((p) => p.kind === 'review').map((p) => p.text)).toEqual(['准时上门，修得很快'])
  const again = load('pages/order/index')
  again.instance.onLoad({ id: String(orderId) })
  await waitFor(() => again.data.state !== 'loading' && again.data.shareKnown, { what: 'the order again' })
  expect(text(again, '.shared')).toBe('已分享到小区动态')
  expect(again.querySelector('.review-form')).toBeUndefined()

  // the engineer's public page shows the review, the reviewer's name masked; the served resident may like them
  const profile = load('pages/engineer/index')
  profile.instance.onLoad({ id: String(engineer.id) })
  await waitFor(() => profile.data.state !== 'loading' && profile.data.reviewsState !== 'loading', { what: 'the engineer page' })
  expect(text(profile, '.review-item >>> .reviewer')).toBe('陈**')
  expect(text(profile, '.review-item >>> .text')).toBe('准时上门，修得很快')
  expect([text(profile, '.avg'), text(profile, '.reviews-count'), text(profile, '.completed')]).toEqual(['5.0', '1', '1'])
  await tap(profile, '.like')
  await waitFor(() => profile.data.engineer.liked, { what: 'the like' })
  expect(text(profile, '.likes')).toBe('1')

  // my orders list it as completed and reviewed
  const list = load('pages/orders/index')
  list.instance.onLoad()
  await waitFor(() => list.data.state !== 'loading', { what: 'my orders' })
  expect(list.data.items.map((i) => [i.id, i.status, i.engineer, i.toReview])).toEqual([[orderId, '已完成', '赵建国师傅', false]])
})

test('a resident the engineer never served is not offered the like, and the server refuses it', async () => {
  const { engineer } = await backend.estateWithEngineer('钱师傅')
  mp.openid = `o_stranger_${backend.unique()}`
  const profile = load('pages/engineer/index')
  profile.instance.onLoad({ id: String(engineer.id) })
  await waitFor(() => profile.data.state !== 'loading' && profile.data.reviewsState !== 'loading', { what: 'the engineer page' })
  expect(text(profile, '.reviews-empty >>> .message')).toBe('还没有评价')
  expect(profile.querySelector('.like')).toBeUndefined()
  expect(text(profile, '.like-hint')).toBe('为您完成过服务的工程师，您可以为他点赞')
  // the server is the judge: the same like through the API is refused
  profile.instance.onLike()
  await waitFor(() => mp.called('showToast').length > 0, { what: 'the refusal' })
  expect(mp.called('showToast')[0].title).toBe('只有这位工程师为您完成过服务后才能点赞')
  expect(profile.data.engineer.liked).toBe(false)
})
