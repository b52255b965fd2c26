/**
 * People other than the reporter named by who they are, as reports and staff replies name them, and words around the
 * same role words that name no one: the public page and the tracking page read them masked or as written. In the
 * expected text, {N} stands for a masked name and {S} for a masked surname (×××, × on the public page; ** on the
 * tracking page).
 */
export const ROLE_NAMED: ReadonlyArray<readonly [string, string]> = [
  // A name after who someone is: village and community staff, school, police, doctors, workmates, friends.
  ['村民向德山说排污口晚上又开了', '村民{N}说排污口晚上又开了'],
  ['班主任李伟红老师反映学生上课闻到臭味', '班主任{N}老师反映学生上课闻到臭味'],
  ['同学王小明也闻到了刺鼻的气味', '同学{N}也闻到了刺鼻的气味'],
  ['已联系网格员张强核实现场情况', '已联系网格员{N}核实现场情况'],
  ['社区书记刘芳到现场查看', '社区书记{N}到现场查看'],
  ['村支书谭志勇表示会督促整改', '村支书{N}表示会督促整改'],
  ['保洁员黄秀兰每天清理河边垃圾', '保洁员{N}每天清理河边垃圾'],
  ['护林员覃德胜发现山上有人烧废料', '护林员{N}发现山上有人烧废料'],
  ['民警龚建军到场制止', '民警{N}到场制止'],
  ['村医邓桂香说来看病的人多了', '村医{N}说来看病的人多了'],
  ['同事蒋文斌也住在附近', '同事{N}也住在附近'],
  ['我的朋友邹海波拍到了视频', '我的朋友{N}拍到了视频'],
  ['老乡雷德才讲河里的鱼死了', '老乡{N}讲河里的鱼死了'],
  ['据村组长廖长青介绍，沟渠是去年挖的', '据村组长{N}介绍，沟渠是去年挖的'],
  ['工作人员易小红陪同检查', '工作人员{N}陪同检查'],
  ['门卫孔祥林不让我们进去', '门卫{N}不让我们进去'],
  ['幼儿园园长苏丽萍说小朋友都在咳嗽', '幼儿园园长{N}说小朋友都在咳嗽'],
  ['环卫工人欧阳春生看到有车倒渣', '环卫工人{N}看到有车倒渣'],
  ['网格长韦丽娟说已经上报', '网格长{N}说已经上报'],
  ['辅警石宏亮在现场拍照取证', '辅警{N}在现场拍照取证'],
  ['调解员阎国栋组织双方协商', '调解员{N}组织双方协商'],
  ['村主任向红梅说要开会研究', '村主任{N}说要开会研究'],
  ['护士长阮秋菊说咳嗽的病人多了', '护士长{N}说咳嗽的病人多了'],
  ['志愿者曾庆丰捡回了一袋农药瓶', '志愿者{N}捡回了一袋农药瓶'],
  // Every later mention of a name so found.
  ['已约网格员张强核实，张强说厂子夜里还在排', '已约网格员{N}核实，{N}说厂子夜里还在排'],
  // A whole name before a title.
  ['李伟红老师说孩子们头晕', '{N}老师说孩子们头晕'],
  ['陈建国医生说是重金属超标', '{N}医生说是重金属超标'],
  ['请卢美华主任尽快处理', '请{N}主任尽快处理'],
  ['已联系了汤国平书记', '已联系了{N}书记'],
  ['王晓东同学说教室里很臭', '{N}同学说教室里很臭'],
  // A surname alone after who someone is, which in a village narrows it down to a few households.
  ['邻居老陈看见有人倒渣', '邻居老{S}看见有人倒渣'],
  ['邻居小孟家也养了猪', '邻居小{S}家也养了猪'],
];

export const ROLE_NAMED_NOT: ReadonlyArray<string> = [
  // Places and businesses that begin with a surname.
  '向阳村的排污口又开了',
  '李家庄的王老吉凉茶厂排废水',
  '张家港来的货车在河边倒渣',
  '刘老根大舞台后面堆满了垃圾',
  '工作人员前往向阳村核查',
  // 向 and 于 that start the words after who someone is.
  '村民向环保局反映多次',
  '网格员向社区报告了',
  '工作人员于当日到场',
  '民警于今日出警',
  // Words that begin with a surname after who someone is, or before a title.
  '书记高度重视，主任严肃批评了该厂',
  '老师任教于镇中心小学',
  '村民曾自行向矿点反映',
  '任课老师说学生头晕',
  '管区书记到场查看',
  '纪委书记已督办',
  '高校老师来取了水样',
  '常务副主任带队检查',
  '工作人员马上赶到',
  '工人高温作业',
  // Who someone is, with no name after it.
  '民警现场调查',
  '医生建议住院观察',
  '志愿者清理了河道',
  '同学们都闻到了',
  '村医上门问诊',
  '同学家长都很担心',
  '网格员每天巡查',
  '保安不让进',
  '社区书记、主任都来了',
  '老乡们都知道',
  '朋友圈里有人发了视频',
  // An official of a bureau by surname and title answers for the district.
  '区环保局李科长到现场检查',
  '执法队员向当事人宣读了决定',
];
