/**
 * Asking a question against the real server: a resident of an estate asks with a photo, sees it in
 * the estate's feed; an engineer of the estate answers; the resident's post page shows the answer
 * with the engineer's name and badge; the resident likes the post and accepts the answer, which
 * then shows under the question in the feed. And the estate's visits: book a slot, cancel it.
 */
const { load, waitFor, text, tap, flush } = require('../helpers')
const backend = require('./backend')

/** A resident (mp.openid) who joined the estate: their token. */
async function residentOf(estate) {
  mp.openid = `o_resident_${backend.unique()}`
  const token = await backend.wechatLogin(mp.openid)
  await backend.call('POST', '/api/v1/me/estates', { estate_id: estate.id }, token)
  return token
}

test('a resident asks with a photo, an engineer answers, the resident likes it and accepts the answer', async () => {
  const { estate, token: engineerToken } = await backend.estateWithEngineer('王建国')
  await residentOf(estate)

  // ask, with a photo picked and uploaded by the photo picker
  const ask = load('pages/ask/index')
  ask.instance.onLoad({ estate_id: String(estate.id), name: encodeURIComponent(estate.name) })
  mp.chosenMedia = [backend.imageFile()]
  await tap(ask, '.photos >>> .add')
  await waitFor(() => ask.data.photoIds.length === 1, { what: 'the photo upload' })
  const question = `热水器显示 E1 是什么故障？${backend.unique()}`
  ask.instance.onText({ detail: { value: question } })
  await tap(ask, '.submit')
  await waitFor(() => mp.called('redirectTo').length === 1, { what: 'the question to be posted' })
  expect(mp.called('showToast').pop().title).toBe('已发布')
  const postId = Number(/id=(\d+)$/.exec(mp.called('redirectTo')[0].url)[1])
  const photo = `http://127.0.0.1:5000/api/v1/uploads/${ask.data.photoIds[0]}`

  // it is in the estate's feed, with its photo
  const estatePage = load('pages/estate/index')
  estatePage.instance.onLoad({})
  await waitFor(() => estatePage.data.feedState !== 'loading' && estatePage.data.state === 'ready', { what: 'the feed' })
  expect(text(estatePage, '.estate-name')).toBe(estate.name)
  const item = estatePage.data.feedItems.find((p) => p.id === postId)
  expect(item).toEqual(expect.objectContaining({ kind: 'question', text: question, photos: [photo], status: 'published' }))
  expect(text(estatePage, `.post-${postId} >>> .answers`)).toBe('等待回答')
  expect(estatePage.querySelector(`.post-${postId}`).instance.data.photos).toEqual([photo])

  // an engineer of the estate answers through the API
  const answer = await backend.call('POST', `/api/v1/posts/${postId}/answers`, { text: '是进水温度传感器故障，我明天上门看看' }, engineerToken)
  expect(answer.status).toBe('published')

  // the resident's post page shows it, with the engineer's name and badge
  const page = load('pages/post/index')
  page.instance.onLoad({ id: String(postId) })
  await waitFor(() => page.data.state === 'ready', { what: 'the post page' })
  expect(text(page, `.answer-${answer.id} .answer-text`)).toBe('是进水温度传感器故障，我明天上门看看')
  expect(text(page, `.answer-${answer.id} .answer-author >>> .name`)).toBe('王建国')
  expect(text(page, `.answer-${answer.id} .answer-author >>> .role`)).toBe('工程师')
  expect(page.data.canAnswer).toBe(false)
  expect(text(page, '.send')).toBe('发表评论')

  // the resident likes it (a second tap would take the like back)
  await tap(page, '.post >>> .like')
  await waitFor(() => page.data.post.liked === true, { what: 'the like' })
  expect(page.data.post.likes_count).toBe(1)
  const again = load('pages/post/index')
  again.instance.onLoad({ id: String(postId) })
  await waitFor(() => again.data.state === 'ready')
  expect(text(again, '.post >>> .like')).toBe('♥1')

  // and accepts the answer: it is shown under the question in the feed
  await tap(page, `.answer-${answer.id} .accept`)
  await waitFor(() => page.data.answers[0].accepted, { what: 'the acceptance' })
  expect(text(page, `.answer-${answer.id} .accepted-mark`)).toBe('已采纳')
  estatePage.instance.onPullDownRefresh()
  await waitFor(() => mp.called('stopPullDownRefresh').length === 1, { what: 'the refresh' })
  expect(text(estatePage, `.post-${postId} >>> .accepted-author >>> .name`)).toBe('王建国')
  expect(text(estatePage, `.post-${postId} >>> .accepted-author >>> .role`)).toBe('工程师')
  expect(text(estatePage, `.post-${postId} >>> .like`)).toBe('♥1')
})

test('a question WeChat wants a human to look at is said to be under review', async () => {
  const { estate } = await backend.estateWithEngineer()
  await residentOf(estate)
  const ask = load('pages/ask/index')
  ask.instance.onLoad({ estate_id: String(estate.id) })
  ask.instance.onText({ detail: { value: '需要的加微信聊' } })
  await tap(ask, '.submit')
  await waitFor(() => mp.called('redirectTo').length === 1, { what: 'the question to be posted' })
  expect(mp.called('showModal')[0].content).toBe('已提交，审核通过后显示。审核通过前，只有您能看到这条提问。')
  const postId = /id=(\d+)$/.exec(mp.called('redirectTo')[0].url)[1]
  const page = load('pages/post/index')
  page.instance.onLoad({ id: postId })
  await waitFor(() => page.data.state === 'ready')
  expect(text(page, '.post >>> .held')).toBe('审核中：已提交，审核通过后显示，目前只有您能看到')
  expect(page.querySelector('.composer')).toBeUndefined()
})

test('the estate’s visits: a resident books a slot and cancels it, which frees it', async () => {
  const { estate, token: engineerToken } = await backend.estateWithEngineer('李师傅')
  const tomorrow = new Date(Date.now() + (8 + 24) * 3600e3).toISOString().slice(0, 10)
  await backend.call('POST', '/api/v1/engineer/visits', { estate_id: estate.id, date: tomorrow, slots: ['09:00-10:00', '10:00-11:00'] }, engineerToken)
  await residentOf(estate)
  const page = load('pages/estate/index')
  page.instance.onLoad({ id: String(estate.id), tab: 'visits' })
  await waitFor(() => page.data.visitsState === 'ready', { what: 'the visits' })
  const [first] = page.data.visits[0].slots
  expect(page.data.visits[0].slots.map((s) => [s.time, s.status])).toEqual([['09:00–10:00', 'free'], ['10:00–11:00', 'free']])
  mp.actionSheetIndex = 0
  await tap(page, `.slot-${first.id} .book`)
  await waitFor(() => page.data.visits[0].slots[0].status === 'mine', { what: 'the booking' })
  const orderId = page.data.visits[0].slots[0].orderId
  const order = await backend.call('GET', `/api/v1/engineer/service-orders?status=scheduled`, undefined, engineerToken)
  expect(order.items.map((o) => [o.id, o.service_type])).toEqual([[orderId, 'repair']])
  await tap(page, `.slot-${first.id} .cancel`)
  await waitFor(() => page.data.visits[0].slots[0].status === 'free', { what: 'the cancellation' })
  await flush()
  expect(mp.called('showToast').map((t) => t.title)).toEqual(['预约成功', '已取消预约'])
})
