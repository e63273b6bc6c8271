const { load, flush, text, tap } = require('../helpers')

const AMBASSADOR = { id: 40, name: '陈阿姨', badge: 'ambassador', badge_label: '服务代言人' }
const POST = { id: 7, estate_id: 12, kind: 'photo', text: '新装的净水器', photos: ['/api/v1/uploads/a.jpg', '/api/v1/uploads/b.jpg',
  '/api/v1/uploads/c.jpg', '/api/v1/uploads/d.jpg', '/api/v1/uploads/e.jpg'], status: 'published', status_label: '已发布',
author: AMBASSADOR, answers_count: 0, comments_count: 3, likes_count: 2, liked: true, accepted_answer_id: null, review_id: null,
created_at: '2026-12-04T02:30:00+00:00', accepted_answer: null }

test('a photo share: author with badge and Beijing time, kind, three photos and +2, counts, a liked heart', async () => {
  const item = load('components/feed-item/index', { post: POST })
  await flush()
  expect(text(item, '.author >>> .name')).toBe('陈阿姨')
  expect(text(item, '.author >>> .role')).toBe('服务代言人')
  expect(text(item, '.author >>> .time')).toBe('12月4日 10:30')
  expect(text(item, '.kind')).toBe('晒图')
  expect(item.querySelector('.text.clamp')).toBeTruthy()
  expect(item.querySelectorAll('.photo')).toHaveLength(3)
  expect(text(item, '.more')).toBe('+2')
  expect(item.querySelector('.answers')).toBeUndefined()
  expect(text(item, '.comments')).toBe('评论 3')
  expect(text(item, '.like')).toBe('♥2')
  expect(item.querySelector('.accepted')).toBeUndefined()
  const likes = []
  item.addEventListener('like', (e) => likes.push(e.detail))
  await tap(item, '.like')
  expect(likes).toEqual([{ id: 7, liked: true }])
  await tap(item, '.counts')
  expect(mp.called('navigateTo')[0].url).toBe('/pages/post/index?id=7')
})

test('on the post’s page: every photo, the whole text, no opening itself', async () => {
  const item = load('components/feed-item/index', { post: POST, detail: true })
  await flush()
  expect(item.querySelectorAll('.photo')).toHaveLength(5)
  expect(item.querySelector('.more')).toBeUndefined()
  expect(item.querySelector('.text.clamp')).toBeUndefined()
  await tap(item, '.body')
  expect(mp.called('navigateTo')).toEqual([])
})

test('an unanswered question waits for an answer; a resident has no badge', async () => {
  const question = { ...POST, kind: 'question', photos: [], liked: false, author: { id: 2, name: '邻居', badge: null, badge_label: null } }
  const item = load('components/feed-item/index', { post: question })
  await flush()
  expect(text(item, '.answers')).toBe('等待回答')
  expect(item.querySelector('.author >>> .role')).toBeUndefined()
  expect(item.querySelector('.photos')).toBeUndefined()
  expect(text(item, '.like')).toBe('♡2')
})
