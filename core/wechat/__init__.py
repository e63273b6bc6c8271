"""The WeChat gateway (wechatpy against api.weixin.qq.com or the fake), the fake server, and the message push endpoint."""
