/**
 * A small English synonym list for robustness tests: common words, each with one near-synonym of the same
 * part of speech that could replace it in most sentences. Our own list, written for ONNX Lens. Pairs are
 * read both ways (the first entry for a word wins).
 */
const PAIRS = `
good:fine great:excellent bad:poor terrible:awful awful:dreadful nice:pleasant wonderful:marvelous
excellent:superb amazing:astonishing boring:dull dull:tedious interesting:intriguing funny:amusing
happy:glad sad:unhappy angry:furious scared:afraid afraid:frightened tired:weary big:large small:little
little:tiny huge:enormous large:sizable tiny:minute fast:quick quick:rapid slow:sluggish easy:simple
simple:plain hard:difficult difficult:tough smart:clever clever:bright stupid:foolish dumb:silly
beautiful:lovely pretty:attractive ugly:unattractive rich:wealthy poor:needy old:aged young:youthful
new:fresh fresh:new modern:contemporary ancient:old strange:odd odd:peculiar weird:bizarre normal:ordinary
ordinary:common common:usual usual:typical rare:uncommon important:significant significant:notable
main:chief major:principal minor:small whole:entire entire:complete complete:total total:overall
certain:sure sure:certain clear:obvious obvious:evident quiet:silent loud:noisy calm:peaceful
strong:powerful weak:feeble powerful:mighty brave:courageous bold:daring shy:timid kind:kindly
cruel:brutal gentle:mild rude:impolite polite:courteous honest:truthful fair:just wrong:incorrect
right:correct correct:accurate true:accurate false:untrue real:genuine fake:false safe:secure
dangerous:risky cheap:inexpensive expensive:costly costly:pricey clean:spotless dirty:filthy
wet:damp dry:arid hot:warm cold:chilly warm:mild cool:chilly bright:vivid dark:dim
empty:vacant full:filled busy:occupied free:available open:unlocked closed:shut close:near near:close
far:distant distant:remote high:tall tall:lofty low:short short:brief long:lengthy brief:short
early:premature late:tardy quickly:rapidly slowly:gradually often:frequently sometimes:occasionally
always:constantly never:not-ever rarely:seldom usually:generally mostly:largely nearly:almost
almost:nearly really:truly very:extremely quite:rather extremely:exceedingly totally:completely
completely:entirely entirely:wholly fully:completely simply:merely merely:only just:merely
maybe:perhaps perhaps:possibly probably:likely certainly:surely surely:definitely definitely:certainly
actually:really suddenly:abruptly finally:eventually eventually:ultimately quickly:swiftly
begin:start start:begin end:finish finish:complete stop:halt halt:stop continue:proceed
make:create create:produce build:construct destroy:ruin ruin:wreck break:smash fix:repair repair:mend
buy:purchase purchase:buy sell:trade get:obtain obtain:acquire receive:get give:provide provide:supply
take:grab grab:seize keep:retain hold:grasp leave:depart depart:leave arrive:come come:arrive
go:proceed move:shift shift:move walk:stroll run:sprint jump:leap climb:ascend fall:drop drop:fall
rise:increase increase:grow grow:expand decrease:reduce reduce:lower shrink:contract
look:glance see:notice notice:observe watch:observe observe:watch hear:listen say:state tell:inform
speak:talk talk:chat ask:inquire answer:reply reply:respond shout:yell yell:scream whisper:murmur
think:believe believe:think know:understand understand:grasp learn:discover discover:find find:locate
remember:recall recall:remember forget:overlook choose:select select:pick pick:choose decide:determine
try:attempt attempt:try help:assist assist:aid support:back need:require require:need want:desire
like:enjoy enjoy:like love:adore hate:detest dislike:hate prefer:favor allow:permit permit:allow
forbid:prohibit prevent:stop avoid:evade show:display display:exhibit hide:conceal conceal:hide
explain:clarify describe:depict discuss:debate argue:dispute agree:concur refuse:decline accept:take
use:employ employ:use work:labor play:perform win:triumph lose:misplace fight:battle attack:assault
protect:defend defend:guard save:rescue rescue:save kill:slay die:perish live:reside stay:remain
remain:stay wait:pause change:alter alter:change improve:enhance enhance:improve damage:harm harm:hurt
hurt:injure cry:weep laugh:chuckle smile:grin shake:tremble throw:toss catch:capture push:shove pull:tug
carry:bear send:dispatch bring:fetch cut:slice join:unite connect:link separate:divide divide:split
gather:collect collect:gather spread:scatter fill:load cover:conceal open:unfold shut:close
answer:response question:query problem:issue issue:matter matter:affair idea:notion notion:concept
plan:scheme goal:aim aim:purpose reason:cause cause:source result:outcome outcome:result effect:impact
chance:opportunity opportunity:chance choice:option option:choice way:method method:technique
part:portion piece:fragment area:region region:zone place:location location:site spot:place
house:home home:residence building:structure room:chamber road:street street:road path:trail
car:automobile auto:car job:occupation work:employment money:cash cash:money price:cost cost:price
movie:film film:movie story:tale tale:story book:volume picture:image image:picture photo:photograph
music:melody song:tune show:program actor:performer plot:storyline scene:sequence ending:conclusion
child:kid kid:child man:gentleman woman:lady friend:companion enemy:foe people:folks person:individual
boss:manager worker:employee teacher:instructor student:pupil doctor:physician group:team team:group
crowd:throng country:nation nation:country city:town town:city world:globe earth:world land:ground
sea:ocean ocean:sea river:stream hill:mound forest:woods stone:rock rock:stone gift:present
trip:journey journey:voyage travel:journey war:conflict peace:calm danger:peril fear:dread
joy:delight anger:rage sorrow:grief pain:ache mistake:error error:mistake fault:flaw truth:fact
fact:detail detail:particular rule:regulation law:statute view:opinion opinion:view belief:conviction
feeling:emotion mood:temper skill:ability ability:capacity power:strength strength:force speed:pace
size:extent amount:quantity number:figure end:conclusion beginning:start start:outset middle:center
center:middle edge:border top:peak bottom:base side:flank front:face back:rear inside:interior
outside:exterior
`;

function buildMap(): Map<string, string> {
  const map = new Map<string, string>();
  for (const pair of PAIRS.trim().split(/\s+/)) {
    const [a, b] = pair.split(':');
    if (!a || !b || b.includes('-')) continue;
    if (!map.has(a)) map.set(a, b);
    if (!map.has(b)) map.set(b, a);
  }
  return map;
}

/** Lower-case word → its synonym (lower case). */
export const SYNONYMS: ReadonlyMap<string, string> = buildMap();

/** Words inserted as "neutral": adverbs and fillers that rarely change what a sentence says. */
export const NEUTRAL_WORDS: readonly string[] = ['also', 'then', 'now', 'here', 'still', 'anyway', 'basically', 'somehow'];

/** The synonym of a word with its capitalization carried over (`Good` → `Fine`), or undefined. */
export function synonymOf(word: string): string | undefined {
  const s = SYNONYMS.get(word.toLowerCase());
  if (!s) return undefined;
  if (word === word.toUpperCase() && word.length > 1) return s.toUpperCase();
  if (word[0] === word[0].toUpperCase() && word[0] !== word[0].toLowerCase()) return s[0].toUpperCase() + s.slice(1);
  return s;
}
