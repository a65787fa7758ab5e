from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from benchmarks.http.models import BareRow


@csrf_exempt
@require_POST
def bare(request):
    """The limit of ``bench_http``: a Django view that inserts one row through the ORM."""
    row = BareRow.objects.create(at=timezone.now(), note="bench")
    return JsonResponse({"id": row.pk}, status=201)
